package dev.runcible.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Writes images into a store in the Storm/YARN layout. Blobs are written so that no reader ever sees a partial
 * file; {@link #tag} comes last, so an image becomes visible only once all its blobs are in place.
 */
public interface ImageStore extends PluginComponent {
    /** Where the store is, for messages. */
    String location();

    void putManifest(Digest digest, byte[] bytes) throws RuncibleException;

    void putConfig(Digest digest, byte[] bytes) throws RuncibleException;

    /** Stores a squashfs layer file under the layer digest, recording the squashfs file's own digest. */
    void putLayer(Digest layer, Path squashfs, Digest squashfsDigest) throws RuncibleException;

    /** Points each name at the manifest, moving names that pointed elsewhere. Atomic for readers. */
    void tag(List<String> names, Digest manifest) throws RuncibleException;

    /** The names and manifests the store lists. */
    List<TagRecord> tags() throws RuncibleException;

    /** Removes names; returns those that were there. Blobs stay until {@link #collect}. */
    List<String> untag(List<String> names) throws RuncibleException;

    /** What a collection removed. */
    record Collected(int files, long bytes) {
    }

    /**
     * Removes manifests, configs and layers that no tagged manifest references and that are older than the grace
     * period, so that an import still writing its blobs (it tags last) loses nothing.
     */
    Collected collect(Duration grace) throws RuncibleException;

    /** What {@link #index} did: layers given a chunk list, layers that had one, and layers it could not index. */
    record Indexed(int indexed, int present, java.util.List<String> problems) {
    }

    /**
     * Writes the chunk lists a node needs to fetch parts of layers (for lazy starts) for every layer that has none,
     * with chunks of {@code chunkSize} bytes; leaves every other file as it is.
     */
    default Indexed index(int chunkSize) throws RuncibleException {
        throw new ResourceUnavailableException("The store at " + location() + " cannot be indexed");
    }

    /**
     * Publishes (or replaces) a layer's prefetch list: the chunks a container read first when it started from the
     * layer, which later lazy starts fetch first. False when the store has no such layer.
     */
    default boolean putPrefetch(Digest layer, byte[] list) throws RuncibleException {
        throw new ResourceUnavailableException("The store at " + location() + " keeps no prefetch lists");
    }
}
