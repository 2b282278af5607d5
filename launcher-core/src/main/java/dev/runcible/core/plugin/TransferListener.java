package dev.runcible.core.plugin;

import java.net.URI;

/**
 * Hears about every blob a fetcher streams: for progress output. Called from the localizing threads. Each event
 * is ignored unless overridden, so a listener says only what it cares about.
 */
public interface TransferListener {
    default void started(URI location) {
    }

    default void transferred(URI location, long bytes) {
    }

    default void finished(URI location, long total, boolean complete) {
    }
}
