package dev.runcible.api;

import java.net.URI;

/** Opens writable image stores of one URI scheme; found by ServiceLoader. */
public interface ImageStoreProvider {
    String scheme();

    ImageStore open(URI root, PluginContext context) throws RuncibleException;
}
