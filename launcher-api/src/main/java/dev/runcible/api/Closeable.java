package dev.runcible.api;

/**
 * What every plugin object is: closed when the launcher shuts down, by default holding nothing. One shared
 * default lets a class implement several SPIs (a backend that is both tag-to-manifest and manifest-to-resources).
 */
public interface Closeable extends AutoCloseable {
    @Override
    default void close() {
    }
}
