package dev.runcible.core.container;

import dev.runcible.api.Digest;
import dev.runcible.api.FileLocks;
import dev.runcible.core.ContainerRuntimeException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 */
public final class RunDirectory {
    /** File locks belong to the process; this keeps two threads of one launcher apart as well. */
    private static final ReentrantLock THREADS = new ReentrantLock();

    private final Path root;

    public RunDirectory(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
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

    public interface LockedAction<T> {
        T run() throws Exception;
    }

    /** Runs an action holding the run directory lock, against other threads and other launcher processes. */
    public <T> T locked(LockedAction<T> action) throws Exception {
        THREADS.lock();
        try {
            Files.createDirectories(root);
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
            return dir.resolve("container.pid");
        }

        public Path stdout() {
            return dir.resolve("stdout.log");
        }

        public Path stderr() {
            return dir.resolve("stderr.log");
        }

        public Path exitCode() {
            return dir.resolve("exit-code");
        }

        public Path shimLog() {
            return dir.resolve("shim.log");
        }
    }
}
