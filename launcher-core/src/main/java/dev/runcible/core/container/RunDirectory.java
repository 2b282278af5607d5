package dev.runcible.core.container;

import dev.runcible.api.Digest;
import dev.runcible.toolkit.FileLocks;
import dev.runcible.toolkit.PrivateDirectory;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.runtime.Bundle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The layout of {@code runcible.run.dir}, and its lock:
 * <pre>
 *   RUN/lock                    held while containers are created or removed and layers mounted or released
 *   RUN/layers/HEX/             the shared read-only mount of layer HEX
 *   RUN/runc/                   runc's state (its --root)
 *   RUN/containers/ID/          one container: container.json, config.json and rootfs/ (the runc bundle),
 *                               upper/ and work/ (overlay), shim.pid, container.pid, stdout.log, stderr.log, exit-code
 * </pre>
 *
 * <p>Everything here is root's alone, as {@code /var/lib/docker} is: directories 0700, files 0600. A container's
 * root filesystem holds tenant content (setuid binaries among it) and its config holds the {@code --env} values,
 * so no other local user may reach into it.
 */
public final class RunDirectory {
    /** Directories: rwx for the owner only. */
    public static final Set<PosixFilePermission> PRIVATE_DIRECTORY = PrivateDirectory.MODE;
    /** Files: rw for the owner only. */
    public static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY_MODE =
            PosixFilePermissions.asFileAttribute(PRIVATE_DIRECTORY);
    private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
            PosixFilePermissions.asFileAttribute(PRIVATE_FILE);

    /** File locks belong to the process; this keeps two threads of one launcher apart as well. */
    private static final ReentrantLock THREADS = new ReentrantLock();

    private final Path root;

    public RunDirectory(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /**
     * Creates the run directory and its parts for the launcher's user alone (0700), and tightens any of them that
     * already exist with looser modes. A run directory that is a symbolic link, or belongs to another user, is
     * refused: whoever owns it could swap what is inside.
     */
    public void secure() throws ContainerRuntimeException {
        try {
            for (Path dir : List.of(root, containers(), layers(), runcRoot())) {
                PrivateDirectory.secure(dir);
            }
        } catch (PrivateDirectory.RefusedException e) {
            throw new ContainerRuntimeException("The run directory part " + e.getMessage() + "; set runcible.run.dir "
                    + "to a real local directory of the launcher's own", e);
        } catch (IOException | UnsupportedOperationException e) {
            throw new ContainerRuntimeException("Cannot prepare the run directory " + root + ": " + e.getMessage()
                    + "; check runcible.run.dir is a writable local directory", e);
        }
    }

    /** Creates a directory (and missing parents) with mode 0700; an existing one is left as it is. */
    public static Path createPrivateDirectory(Path dir) throws IOException {
        return Files.createDirectories(dir, DIRECTORY_MODE);
    }

    /** Writes a file with mode 0600 under a temporary name, then renames it into place. */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try (FileChannel channel = FileChannel.open(temp, EnumSet.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), FILE_MODE)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public Path containers() {
        return root.resolve("containers");
    }

    public Path layers() {
        return root.resolve("layers");
    }

    public Path runcRoot() {
        return root.resolve("runc");
    }

    /**
     * The files of a container. Ids are 64 hex digits the launcher makes itself; anything else (a path, '..', a
     * name a tenant chose) is refused, so no file the launcher writes can land outside the run directory.
     */
    public ContainerFiles container(String id) {
        if (!Digest.isHex(id)) {
            throw new IllegalArgumentException("Not a container id: '" + id + "'");
        }
        Path dir = containers().resolve(id).normalize();
        if (!dir.getParent().equals(containers().normalize())) {
            throw new IllegalArgumentException("Container directory escapes the run directory: " + dir);
        }
        return new ContainerFiles(dir);
    }

    /** Work done under the run directory lock. */
    public interface LockedAction<T> {
        T run() throws RuncibleException;
    }

    /** Runs an action holding the run directory lock, against other threads and other launcher processes. */
    public <T> T locked(LockedAction<T> action) throws RuncibleException {
        THREADS.lock();
        try {
            createPrivateDirectory(root);
            try (FileChannel channel = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = FileLocks.exclusive(channel)) {
                return action.run();
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot lock the run directory " + root + ": " + e.getMessage()
                    + "; check runcible.run.dir is a writable local directory", e);
        } finally {
            THREADS.unlock();
        }
    }

    /** The files of one container directory. */
    public record ContainerFiles(Path dir) {
        /** The directory as runc's bundle, with the files the shim writes. */
        public Bundle bundle() {
            return new Bundle(dir);
        }

        public Path record() {
            return dir.resolve("container.json");
        }

        public Path config() {
            return dir.resolve("config.json");
        }

        public Path rootfs() {
            return dir.resolve("rootfs");
        }

        public Path upper() {
            return dir.resolve("upper");
        }

        public Path work() {
            return dir.resolve("work");
        }

        public Path shimPid() {
            return dir.resolve("shim.pid");
        }

        public Path containerPid() {
            return bundle().pidFile();
        }

        public Path stdout() {
            return bundle().stdout();
        }

        public Path stderr() {
            return bundle().stderr();
        }

        public Path exitCode() {
            return bundle().exitCode();
        }

        /** Locked by the launcher thread creating the container, until it has started or been removed. */
        public Path creating() {
            return dir.resolve("creating");
        }

        public Path shimLog() {
            return bundle().shimLog();
        }

        /** Written once the exited container's root filesystem is unmounted and its layers released. */
        public Path released() {
            return dir.resolve("released");
        }

        /** The launcher process waiting in the foreground for the container's exit, which then handles it. */
        public Path attached() {
            return dir.resolve("attached");
        }
    }
}
