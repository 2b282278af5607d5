package dev.runcible.store;

import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.toolkit.FileLocks;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * A store on a local filesystem. Entries are checked before they are opened ({@link StoreFiles#regular}). The tag
 * lock is a POSIX lock on {@value StoreLayout#TAG_POSIX_LOCK}, taken by one thread of the process at a time.
 */
public final class LocalStoreFileSystem implements StoreFileSystem {
    /** File locks belong to the process: this keeps threads of one process apart before they take one. */
    private static final ReentrantLock TAGGING = new ReentrantLock();

    private final Path root;
    private final String rootSetting;

    public LocalStoreFileSystem(Path root, String rootSetting) {
        this.root = root;
        this.rootSetting = rootSetting;
    }

    public Path root() {
        return root;
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public String rootSetting() {
        return rootSetting;
    }

    @Override
    public URI uri(String path) {
        return root.resolve(path).toUri();
    }

    @Override
    public String describe(String path) {
        return root.resolve(path).toString();
    }

    @Override
    public boolean rootExists() {
        return Files.isDirectory(root);
    }

    @Override
    public Optional<FileStatus> stat(String path) throws IOException, RuncibleException {
        Path file = root.resolve(path);
        try {
            BasicFileAttributes attributes = StoreFiles.regular(root, file);
            return Optional.of(new FileStatus(file.getFileName().toString(), attributes.size(),
                    attributes.lastModifiedTime().toMillis(), attributes.fileKey()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream open(String path) throws IOException, RuncibleException {
        Path file = root.resolve(path);
        StoreFiles.regular(root, file);
        return Files.newInputStream(file);
    }

    @Override
    public List<FileStatus> list(String directory) throws IOException {
        Path dir = root.resolve(directory);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<FileStatus> files = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (attributes.isRegularFile()) {
                    files.add(new FileStatus(entry.getFileName().toString(), attributes.size(),
                            attributes.lastModifiedTime().toMillis(), attributes.fileKey()));
                }
            }
        }
        return files;
    }

    @Override
    public void delete(String path) throws IOException {
        Files.deleteIfExists(root.resolve(path));
    }

    @Override
    public boolean publish(String path, byte[] bytes) throws IOException {
        return publish(path, temp -> Files.write(temp, bytes));
    }

    @Override
    public boolean publish(String path, Path localFile) throws IOException {
        return publish(path, temp -> Files.copy(localFile, temp, StandardCopyOption.REPLACE_EXISTING));
    }

    /** Fills a temporary file beside the target. */
    private interface Content {
        void writeTo(Path temp) throws IOException;
    }

    private boolean publish(String path, Content content) throws IOException {
        Path target = root.resolve(path);
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Path temp = tempBeside(target);
        try {
            content.writeTo(temp);
            return moveReadOnly(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public void replace(String path, byte[] bytes) throws IOException {
        Path target = root.resolve(path);
        Path temp = tempBeside(target);
        try {
            Files.write(temp, bytes);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public Closeable lockTags() throws IOException {
        TAGGING.lock();
        try {
            Files.createDirectories(root);
            FileChannel channel = FileChannel.open(root.resolve(StoreLayout.TAG_POSIX_LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            try {
                FileLock lock = FileLocks.exclusive(channel);
                return () -> {
                    try (channel; lock) {
                        // released in order: the lock, then its channel
                    } finally {
                        TAGGING.unlock();
                    }
                };
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            TAGGING.unlock();
            throw e;
        }
    }

    @Override
    public RuncibleException failure(IOException e, String action) {
        return new ResourceUnavailableException("Cannot " + action + ": " + e.getMessage(), e);
    }

    private static Path tempBeside(Path target) throws IOException {
        Files.createDirectories(target.getParent());
        return Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
    }

    /**
     * Read-only, then linked into place: link(2), unlike rename(2), never replaces a file of that name, so a file
     * another writer (or Storm's, or YARN's tools) put there first is kept as it is.
     */
    private static boolean moveReadOnly(Path temp, Path target) throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
        try {
            Files.createLink(target, temp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }
}
