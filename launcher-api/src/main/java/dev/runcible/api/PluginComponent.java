package dev.runcible.api;

/**
 * What every plugin object is (the SPIs extend it; its name keeps clear of {@code java.io.Closeable}): closed when
 * the launcher shuts down, by default holding nothing and keeping no state on the host. One shared default lets a
 * class implement several SPIs (a backend that is both tag-to-manifest and manifest-to-resources).
 */
public interface PluginComponent extends AutoCloseable {
    @Override
    default void close() {
    }

    /**
     * Host paths where this plugin keeps its state or reads its store (a cache, a store root, a tag file). No
     * container may bind-mount them, or anything inside them or above them, read-only or read-write.
     */
    default java.util.List<java.nio.file.Path> localState() {
        return java.util.List.of();
    }
}
