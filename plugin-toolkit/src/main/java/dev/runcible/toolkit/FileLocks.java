package dev.runcible.toolkit;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/**
 * Exclusive whole-file locks that tolerate Linux's deadlock detection among threads.
 *
 * <p>{@link FileChannel#lock()} takes a POSIX record lock, which belongs to the process, not the thread. The kernel
 * refuses a blocking lock with EDEADLK ("Resource deadlock avoided") when the process it waits for is itself waiting
 * for a lock this process holds. Between multi-threaded launchers that report is usually false: launcher A's fetch
 * thread holds the lock of layer 1 and is working, its other thread waits for layer 2, which launcher B's fetch
 * thread holds while B's other thread waits for layer 1. Every lock here is held only by a thread that is working
 * and takes no other lock of the kind, so no real deadlock can form; such a wait goes on by polling instead.
 * The launcher and the plugins share this one helper, so every lock they take behaves the same.
 */
public final class FileLocks {
    private static final long MAX_POLL_MILLIS = 50;

    private FileLocks() {
    }

    /** Blocks until this process holds an exclusive lock on the whole file. */
    public static FileLock exclusive(FileChannel channel) throws IOException {
        try {
            return channel.lock();
        } catch (IOException e) {
            if (!isDeadlockReport(e)) {
                throw e;
            }
        }
        long sleep = 1;
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return lock;
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("Interrupted while waiting for a file lock");
            }
            sleep = Math.min(sleep * 2, MAX_POLL_MILLIS);
        }
    }

    static boolean isDeadlockReport(IOException e) {
        return e.getMessage() != null && e.getMessage().contains("Resource deadlock avoided");
    }
}
