package dev.runcible.store;

import dev.runcible.api.RuncibleException;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The few file operations the Storm/YARN store format needs, on paths relative to the store's root
 * ({@code manifests/HEX}). {@link StoreReader} and {@link StoreWriter} are written once against it; a backend binds
 * it to its filesystem ({@link LocalStoreFileSystem} on java.nio, the HDFS plugin's on Hadoop's FileSystem) and
 * brings its own locking. A missing file is {@link NoSuchFileException} or an empty answer, never a null.
 */
public interface StoreFileSystem extends Closeable {
    /** The store's root as an operator writes it: {@code /var/lib/runcible/store}, {@code hdfs://nn:8020/runc-root}. */
    String location();

    /** The setting that names the root, for messages that say what to check ({@code local.root}). */
    String rootSetting();

    /** Where a file of the store is, for a fetcher to open. */
    URI uri(String path);

    /** A file of the store as messages name it: a local path, or a URI. */
    default String describe(String path) {
        return uri(path).toString();
    }

    /** Whether the root directory exists. */
    boolean rootExists() throws IOException, RuncibleException;

    /**
     * The attributes of a regular file, or empty when there is none. An entry that is no regular file (a FIFO, a
     * device, a link leaving the store) is refused with a typed error naming it.
     */
    Optional<FileStatus> stat(String path) throws IOException, RuncibleException;

    /**
     * The file's first {@code limit + 1} bytes at most, so a caller sees that a file is over its limit without
     * reading all of it. A missing file is {@link NoSuchFileException}; an entry that is no regular file a typed error.
     */
    default byte[] read(String path, int limit) throws IOException, RuncibleException {
        try (java.io.InputStream in = open(path)) {
            return in.readNBytes(limit == Integer.MAX_VALUE ? limit : limit + 1);
        }
    }

    /** A regular file opened for reading from its start, as {@link #read} finds it. The caller closes it. */
    java.io.InputStream open(String path) throws IOException, RuncibleException;

    /** The regular files directly in a directory; empty when it does not exist. */
    List<FileStatus> list(String directory) throws IOException, RuncibleException;

    void delete(String path) throws IOException, RuncibleException;

    /**
     * Writes a content-addressed file: under a temporary name beside it, made read-only (0444), renamed into place.
     * An existing file of that name is left as it is. Returns whether this call wrote the file.
     */
    boolean publish(String path, byte[] bytes) throws IOException, RuncibleException;

    /** {@link #publish(String, byte[])} with a local file's content; nothing is copied when the name exists. */
    boolean publish(String path, Path localFile) throws IOException, RuncibleException;

    /** Replaces a file atomically with new content, readable by all: the tag file. */
    void replace(String path, byte[] bytes) throws IOException, RuncibleException;

    /** Holds the store's tag-file lock, across threads and processes, until closed. */
    Closeable lockTags() throws IOException, RuncibleException;

    /** An I/O failure as the typed error a user reads, naming what was tried ({@code "read manifests/HEX"}). */
    RuncibleException failure(IOException e, String action);

    @Override
    default void close() {
    }

    /**
     * A regular file's attributes.
     *
     * @param key identifies the file across renames where the filesystem can (an inode), else null
     */
    record FileStatus(String name, long size, long modifiedMillis, Object key) {
    }
}
