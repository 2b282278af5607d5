package dev.runcible.core.plugin;

import java.net.URI;

/** Hears about every blob a fetcher streams: for progress output. Called from the localizing threads. */
public interface TransferListener {
    void started(URI location);

    void transferred(URI location, long bytes);

    void finished(URI location, long total, boolean complete);
}
