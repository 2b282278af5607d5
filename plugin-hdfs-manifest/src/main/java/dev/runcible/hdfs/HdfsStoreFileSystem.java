package dev.runcible.hdfs;

import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.StoreFileSystem;
import dev.runcible.store.StoreLayout;
import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The store format's filesystem binding on Hadoop's FileSystem. A file is written under a temporary name beside its
 * final one and renamed into place; HDFS's rename never replaces an existing file, and its overwriting rename (for
 * the tag file) is atomic. The tag lock is a lock file: HDFS creates a file for one writer only.
 */
final class HdfsStoreFileSystem implements StoreFileSystem {
    private static final FsPermission READ_ONLY = new FsPermission((short) 0444);
    /** A lock older than this was left by a writer that died; it is broken. */
    private static final Duration STALE_LOCK = Duration.ofMinutes(5);
    private static final Duration LOCK_WAIT = Duration.ofMinutes(2);

    private final HdfsConnection connection;
    private final boolean ownsConnection;

    /** {@code ownsConnection}: whether {@link #close()} closes it (a writer's own), or the plugin shares it. */
    HdfsStoreFileSystem(HdfsConnection connection, boolean ownsConnection) {
        this.connection = connection;
        this.ownsConnection = ownsConnection;
    }

    private URI root() {
        return connection.settings().root().orElse(URI.create("hdfs:///"));
    }

    private Path path(String relative) {
        return new Path(new Path(root()), relative);
    }

    @Override
    public String location() {
        return connection.settings().root().map(URI::toString).orElse("(" + HdfsSettings.ROOT + " is not set)");
    }

    @Override
    public String rootSetting() {
        return HdfsSettings.ROOT;
    }

    @Override
    public URI uri(String relative) {
        return path(relative).toUri();
    }

    @Override
    public boolean rootExists() throws IOException, RuncibleException {
        return connection.fileSystem().exists(new Path(connection.root()));
    }

    @Override
    public Optional<FileStatus> stat(String relative) throws IOException, RuncibleException {
        try {
            org.apache.hadoop.fs.FileStatus status = connection.fileSystem().getFileStatus(path(relative));
            if (!status.isFile()) {
                throw new InvalidImageException("Store entry " + status.getPath() + " is not a regular file; "
                        + "refusing to read it. Replace it with the file itself");
            }
            return Optional.of(new FileStatus(status.getPath().getName(), status.getLen(),
                    status.getModificationTime(), null));
        } catch (FileNotFoundException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream open(String relative) throws IOException, RuncibleException {
        try {
            return connection.fileSystem().open(path(relative));
        } catch (FileNotFoundException e) {
            throw new NoSuchFileException(path(relative).toString());
        }
    }

    @Override
    public List<FileStatus> list(String directory) throws IOException, RuncibleException {
        FileSystem fs = connection.fileSystem();
        List<FileStatus> files = new ArrayList<>();
        try {
            for (org.apache.hadoop.fs.FileStatus status : fs.listStatus(path(directory))) {
                if (status.isFile()) {
                    files.add(new FileStatus(status.getPath().getName(), status.getLen(),
                            status.getModificationTime(), null));
                }
            }
        } catch (FileNotFoundException e) {
            return List.of();
        }
        return files;
    }

    @Override
    public void delete(String relative) throws IOException, RuncibleException {
        connection.fileSystem().delete(path(relative), false);
    }

    @Override
    public boolean publish(String relative, byte[] bytes) throws IOException, RuncibleException {
        return publish(relative, (fs, temp) -> {
            try (OutputStream out = fs.create(temp, false)) {
                out.write(bytes);
            }
        });
    }

    @Override
    public boolean publish(String relative, java.nio.file.Path localFile) throws IOException, RuncibleException {
        return publish(relative, (fs, temp) -> fs.copyFromLocalFile(false, true, new Path(localFile.toUri()), temp));
    }

    /** Fills a temporary file beside the target. */
    private interface Content {
        void writeTo(FileSystem fs, Path temp) throws IOException;
    }

    /** Nothing is written, or uploaded, when the name exists. */
    private boolean publish(String relative, Content content) throws IOException, RuncibleException {
        FileSystem fs = connection.fileSystem();
        Path target = path(relative);
        if (fs.exists(target)) {
            return false;
        }
        Path temp = temp(target);
        try {
            content.writeTo(fs, temp);
            return moveReadOnly(fs, temp, target);
        } finally {
            deleteQuietly(fs, temp);
        }
    }

    @Override
    public void replace(String relative, byte[] bytes) throws IOException, RuncibleException {
        FileSystem fs = connection.fileSystem();
        Path target = path(relative);
        Path temp = temp(target);
        try {
            try (OutputStream out = fs.create(temp, false)) {
                out.write(bytes);
            }
            fs.setPermission(temp, READ_ONLY); // as every file of the store: replaced whole, never written in place
            FileContext.getFileContext(root(), fs.getConf()).rename(temp, target, Options.Rename.OVERWRITE);
        } finally {
            deleteQuietly(fs, temp);
        }
    }

    private static Path temp(Path target) {
        return new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    }

    /** HDFS's rename fails, returning false, when the target exists: a file another writer put there stays. */
    private static boolean moveReadOnly(FileSystem fs, Path temp, Path target) throws IOException {
        fs.setPermission(temp, READ_ONLY);
        return fs.rename(temp, target);
    }

    private static void deleteQuietly(FileSystem fs, Path path) {
        try {
            fs.delete(path, false);
        } catch (IOException e) {
            // a leftover temporary file is ignored by readers and removed by gc
        }
    }

    /**
     * Takes the tag lock: a lease file written whole under a temporary name and renamed into place, which HDFS does
     * for one writer only. It names its holder and how long it holds; one older than that (its writer died) is
     * broken, and so is one that names no lease, which no writer of this protocol left (an empty file copied in
     * with a store, say).
     */
    @Override
    public Closeable lockTags() throws IOException, RuncibleException {
        FileSystem fs = connection.fileSystem();
        Path lock = path(StoreLayout.TAG_LEASE);
        String holder = TagLease.newHolder();
        byte[] lease = TagLease.write(holder, STALE_LOCK);
        long deadline = System.currentTimeMillis() + LOCK_WAIT.toMillis();
        long sleep = 20;
        fs.mkdirs(new Path(root()));
        while (true) {
            Path temp = temp(lock);
            try {
                try (OutputStream out = fs.create(temp, false)) {
                    out.write(lease);
                }
                if (fs.rename(temp, lock)) {
                    return () -> release(fs, lock, holder);
                }
            } finally {
                deleteQuietly(fs, temp);
            }
            Optional<TagLease> held = TagLease.read(fs, lock);
            if (held.isEmpty() || held.get().expired()) {
                // No lease, or one its writer outlived: gone unless it changed since it was read.
                TagLease.breakIfSame(fs, lock, held);
                continue;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new ResourceUnavailableException("Cannot lock " + path(StoreLayout.TAG_FILE) + ": " + lock
                        + " is held by " + held.get().holder() + " until " + held.get().until() + "; if that "
                        + "writer is gone, delete the file");
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ResourceUnavailableException("Interrupted while waiting for " + lock, e);
            }
            sleep = Math.min(sleep * 2, 500);
        }
    }

    /** Deletes the lease if it is still this holder's (a writer slower than its lease may have lost it). */
    private static void release(FileSystem fs, Path lock, String holder) {
        try {
            Optional<TagLease> held = TagLease.read(fs, lock);
            if (held.isPresent() && held.get().holder().equals(holder)) {
                fs.delete(lock, false);
            }
        } catch (IOException e) {
            // the lease runs out on its own
        }
    }

    @Override
    public RuncibleException failure(IOException e, String action) {
        return HdfsConnection.translate(e, action);
    }

    @Override
    public void close() {
        if (ownsConnection) {
            connection.close();
        }
    }
}
