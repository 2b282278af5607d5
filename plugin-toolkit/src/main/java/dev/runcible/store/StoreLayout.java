package dev.runcible.store;

import dev.runcible.api.Digest;

/**
 * The file names of the Storm/YARN store layout, relative to its root; the one place that knows them.
 * Content-addressed files live in {@link #DIRECTORIES}; the tag file {@value #TAG_FILE} names manifests.
 */
public final class StoreLayout {
    public static final String TAG_FILE = "image-tag-to-hash";
    /**
     * The tag lock of a store on a local filesystem: a POSIX lock on this file, which stays. Its name differs from
     * {@link #TAG_LEASE}'s, so a store copied between filesystems never carries one protocol's file into the other's.
     */
    public static final String TAG_POSIX_LOCK = "." + TAG_FILE + ".flock";
    /** The tag lock of a store on HDFS: a file naming its holder and lease, there only while it is held. */
    public static final String TAG_LEASE = "." + TAG_FILE + ".lock";
    /** The directories that hold content-addressed files. */
    public static final String[] DIRECTORIES = {"manifests", "config", "layers"};
    public static final String SQUASHFS_DIGEST_SUFFIX = ".sha256";

    private StoreLayout() {
    }

    public static String manifest(Digest digest) {
        return "manifests/" + digest.hex();
    }

    public static String config(Digest digest) {
        return "config/" + digest.hex();
    }

    public static String layer(Digest digest) {
        return "layers/" + digest.hex() + ".sqsh";
    }

    /** A sha256sum-format record of the squashfs file's own digest: {@code sha256sum -c} checks it. */
    public static String layerDigest(Digest digest) {
        return layer(digest) + SQUASHFS_DIGEST_SUFFIX;
    }

    /** A line of a sha256sum-format record: {@code sha256sum -c} checks {@code fileName} against it. */
    public static String digestRecord(Digest digest, String fileName) {
        return digest.hex() + "  " + fileName + "\n";
    }

    /** The sha256 of each chunk of a layer's squashfs file ({@link ChunkList}), for fetching parts of it. */
    public static String layerChunks(Digest digest) {
        return layer(digest) + ".chunks";
    }

    /** The sha256sum-format record of the chunk list's own bytes. */
    public static String layerChunksDigest(Digest digest) {
        return layerChunks(digest) + SQUASHFS_DIGEST_SUFFIX;
    }

    /** The chunks a container read first when it started from the layer, in order: what a cold node fetches first. */
    public static String layerPrefetch(Digest digest) {
        return layer(digest) + ".prefetch";
    }

    /** The file name part of a layout path. */
    public static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
