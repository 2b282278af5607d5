package dev.runcible.api;

import java.io.InputStream;
import java.net.URI;

/** Opens resource locations of one URI scheme for reading. Thread-safe. */
public interface ResourceFetcher extends Closeable {
    InputStream open(URI location) throws ResourceUnavailableException;
}
