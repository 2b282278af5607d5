package dev.runcible.api;

import java.io.InputStream;
import java.net.URI;

/** Opens resource locations of one URI scheme for reading. Thread-safe. */
public interface ResourceFetcher extends PluginComponent {
    InputStream open(URI location) throws ResourceUnavailableException;

    /**
     * Proves, without reading it, that the location may be read by whoever names it: called before a copy the node
     * already holds (fetched for another image, perhaps from another repository) is used for this one. By default
     * there is nothing to prove: a store the operator configured serves every image in it.
     */
    default void checkAccess(URI location) throws RuncibleException {
    }

    /**
     * The location's current length and modification time, for a cache to see a file changed in place; empty when
     * the location cannot change (content-addressed) or its scheme does not say.
     */
    default java.util.Optional<SourceVersion> version(URI location) throws RuncibleException {
        return java.util.Optional.empty();
    }

    /**
     * The location opened for reads at any position, for a reader that fetches parts of a file as they are needed;
     * empty where the source can only stream (a registry's compressed blob). The caller closes it.
     */
    default java.util.Optional<RandomAccess> openRandomAccess(URI location) throws RuncibleException {
        return java.util.Optional.empty();
    }

    /** Positional reads of one location, from any thread. */
    interface RandomAccess extends java.io.Closeable {
        /** The location's length in bytes, as it was when opened. */
        long size();

        /** Reads exactly {@code length} bytes at {@code position}; an EOFException when the file ends first. */
        void readFully(long position, byte[] buffer, int offset, int length) throws java.io.IOException;

        /**
         * As {@link #readFully}, for a reader that knows every range it wants: nothing past the range is read for a
         * read that may continue it (a source that reads ahead for readers going front to back does not here). By
         * default {@link #readFully}.
         */
        default void readRange(long position, byte[] buffer, int offset, int length) throws java.io.IOException {
            readFully(position, buffer, offset, length);
        }

        /**
         * Fills each range's buffer from its position, as one batch where the source has one (HDFS reads them
         * vectored); by default one range after another.
         */
        default void readAll(java.util.List<Range> ranges) throws java.io.IOException {
            for (Range range : ranges) {
                readFully(range.position(), range.buffer(), 0, range.buffer().length);
            }
        }
    }

    /** A part of a file: its position, and a buffer as long as the part. */
    record Range(long position, byte[] buffer) {
    }

    /**
     * The location as a regular file of this node, when it is one: a cache on the same filesystem may link it
     * instead of copying its bytes. Empty by default.
     */
    default java.util.Optional<java.nio.file.Path> localFile(URI location) throws RuncibleException {
        return java.util.Optional.empty();
    }
}
