package dev.runcible.core.lazy;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read-only regular file served over {@code /dev/fuse}: the whole filesystem is that file, mounted on a regular
 * file. The few requests a loop device's reads bring (INIT, GETATTR, OPEN, READ, FLUSH, RELEASE, STATFS) are
 * answered here, with the structures of the kernel's FUSE protocol 7.31 laid out by hand; every other request gets
 * ENOSYS, which the kernel remembers. Reads are answered by several threads at once, so a read waiting for the
 * network does not hold up one the node already has.
 */
final class FuseFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseFile.class);

    /** Where the bytes come from: a read fills {@code target}'s remaining bytes from {@code position}. */
    interface Source {
        long size();

        void read(long position, ByteBuffer target) throws IOException;
    }

    /**
     * A source given once the file is mounted, so that the mount need not wait for what the source needs first:
     * until then a request for its size or bytes waits. Nothing reads the file before its server says it is ready,
     * and then the source is there; a source that could not be made is an empty file that fails its reads.
     */
    static final class Deferred implements Source {
        private final java.util.concurrent.CompletableFuture<Source> source =
                new java.util.concurrent.CompletableFuture<>();

        void give(Source given) {
            source.complete(given);
        }

        void fail(Throwable cause) {
            source.completeExceptionally(cause);
        }

        @Override
        public long size() {
            try {
                return source.join().size();
            } catch (java.util.concurrent.CompletionException e) {
                return 0;
            }
        }

        @Override
        public void read(long position, ByteBuffer target) throws IOException {
            try {
                source.join().read(position, target);
            } catch (java.util.concurrent.CompletionException e) {
                throw new IOException("the file has no source: " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    private static final int FUSE_LOOKUP = 1;
    private static final int FUSE_FORGET = 2;
    private static final int FUSE_GETATTR = 3;
    private static final int FUSE_OPEN = 14;
    private static final int FUSE_READ = 15;
    private static final int FUSE_STATFS = 17;
    private static final int FUSE_RELEASE = 18;
    private static final int FUSE_FLUSH = 25;
    private static final int FUSE_INIT = 26;
    private static final int FUSE_INTERRUPT = 36;
    private static final int FUSE_DESTROY = 38;
    private static final int FUSE_BATCH_FORGET = 42;
    private static final int FUSE_ASYNC_READ = 1;
    private static final int FUSE_MAX_PAGES = 1 << 22;
    private static final int FOPEN_KEEP_CACHE = 1 << 1;
    private static final int IN_HEADER = 40;
    private static final int OUT_HEADER = 16;
    /** Large enough for any request the kernel may send before and after INIT. */
    private static final int REQUEST_BUFFER = 132 * 1024;
    /** The most one READ asks for: 256 pages, with FUSE_MAX_PAGES. */
    static final int MAX_READ = 1 << 20;
    private static final long ATTR_VALID_SECONDS = 3600;

    private final int fd;
    private final Path mountPoint;
    private final Source source;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean closed;

    private FuseFile(int fd, Path mountPoint, Source source) {
        this.fd = fd;
        this.mountPoint = mountPoint;
        this.source = source;
    }

    /**
     * Mounts the source on {@code mountPoint} (an existing regular file) and starts {@code threads} threads that
     * answer the kernel. Reads of the file wait for the first answer; none is lost between mount and start.
     */
    static FuseFile mount(Path mountPoint, Source source, int threads) {
        int fd = Fuse.libc().open("/dev/fuse", Fuse.O_RDWR | Fuse.O_CLOEXEC);
        FuseFile file = new FuseFile(fd, mountPoint, source);
        try {
            Fuse.mountFile(fd, mountPoint.toString());
        } catch (LastErrorException e) {
            Fuse.libc().close(fd);
            throw e;
        }
        for (int i = 0; i < threads; i++) {
            Thread worker = new Thread(file::serve, "fuse-" + i);
            worker.setDaemon(true);
            worker.start();
            file.workers.add(worker);
        }
        return file;
    }

    Path mountPoint() {
        return mountPoint;
    }

    /** Waits until the filesystem is unmounted and every thread has seen it. */
    void awaitUnmounted() throws InterruptedException {
        for (Thread worker : workers) {
            worker.join();
        }
    }

    /**
     * Detaches the mount: the kernel ends it once its last user (a loop device still bound to it) lets go, and the
     * threads, daemons all, keep answering until then or until the process exits.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Fuse.detach(mountPoint.toString());
        } catch (LastErrorException e) {
            LOG.debug("detaching {}: {}", mountPoint, e.getMessage());
        }
    }

    private void serve() {
        ByteBuffer in = DirectBuffers.take(REQUEST_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = DirectBuffers.take(OUT_HEADER + MAX_READ).order(ByteOrder.LITTLE_ENDIAN);
        try {
            serve(in, out);
        } finally {
            DirectBuffers.giveBack(in);
            DirectBuffers.giveBack(out);
        }
    }

    private void serve(ByteBuffer in, ByteBuffer out) {
        while (true) {
            try {
                if (Fuse.read(fd, in) < IN_HEADER) {
                    continue;
                }
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == Fuse.EINTR || errno == Fuse.EAGAIN || errno == Fuse.ENOENT) {
                    continue;
                }
                if (errno != Fuse.ENODEV) {
                    LOG.warn("Reading /dev/fuse for {} failed: {}", mountPoint, e.getMessage());
                }
                return; // ENODEV: unmounted
            }
            int opcode = in.getInt(4);
            long unique = in.getLong(8);
            try {
                int length = answer(opcode, in, out);
                if (length >= 0) {
                    reply(out, length, 0, unique);
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Fuse.ENODEV) {
                    return;
                }
                // ENOENT: the request was interrupted or aborted meanwhile; nothing to do
            }
            if (opcode == FUSE_DESTROY) {
                return;
            }
        }
    }

    /** Writes the reply's body into {@code out} after the header; returns its length, or -1 for no reply. */
    private int answer(int opcode, ByteBuffer in, ByteBuffer out) {
        long unique = in.getLong(8);
        switch (opcode) {
            case FUSE_INIT -> {
                int minor = in.getInt(44);
                int offered = in.getInt(52);
                out.putInt(16, 7);
                out.putInt(20, Math.min(minor, 31));
                out.putInt(24, Math.min(in.getInt(48), MAX_READ));
                out.putInt(28, offered & (FUSE_ASYNC_READ | FUSE_MAX_PAGES));
                out.putShort(32, (short) 16);
                out.putShort(34, (short) 12);
                out.putInt(36, 4096);
                out.putInt(40, 1);
                out.putShort(44, (short) (MAX_READ / 4096));
                for (int at = 46; at < 80; at++) {
                    out.put(at, (byte) 0);
                }
                return 64;
            }
            case FUSE_GETATTR -> {
                attributes(out);
                return 104;
            }
            case FUSE_OPEN -> {
                out.putLong(16, 0);
                out.putInt(24, FOPEN_KEEP_CACHE);
                out.putInt(28, 0);
                return 16;
            }
            case FUSE_READ -> {
                return read(in.getLong(48), in.getInt(56), out, unique);
            }
            case FUSE_STATFS -> {
                for (int at = 16; at < 96; at++) {
                    out.put(at, (byte) 0);
                }
                out.putInt(56, 4096);
                out.putInt(60, 255);
                out.putInt(64, 4096);
                return 80;
            }
            case FUSE_FLUSH, FUSE_RELEASE, FUSE_DESTROY -> {
                return 0;
            }
            case FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT -> {
                return -1; // never answered
            }
            default -> {
                reply(out, 0, opcode == FUSE_LOOKUP ? -Fuse.ENOENT : -Fuse.ENOSYS, unique);
                return -1;
            }
        }
    }

    private int read(long position, int size, ByteBuffer out, long unique) {
        long end = Math.min(source.size(), position + Math.min(size, MAX_READ));
        int length = (int) Math.max(0, end - position);
        out.clear().position(OUT_HEADER).limit(OUT_HEADER + length);
        try {
            source.read(position, out);
            return length;
        } catch (IOException | RuntimeException e) {
            LOG.debug("read of {} bytes at {} failed: {}", length, position, e.toString());
            reply(out, 0, -Fuse.EIO, unique);
            return -1;
        } finally {
            out.clear();
        }
    }

    private void attributes(ByteBuffer out) {
        for (int at = 16; at < 120; at++) {
            out.put(at, (byte) 0);
        }
        long size = source.size();
        out.putLong(16, ATTR_VALID_SECONDS);
        out.putLong(32, 1); // ino: the root
        out.putLong(40, size);
        out.putLong(48, (size + 511) / 512);
        out.putInt(92, 0100400); // a regular file, r-- for root
        out.putInt(96, 1);
        out.putInt(112, 4096);
    }

    private void reply(ByteBuffer out, int length, int error, long unique) {
        out.putInt(0, OUT_HEADER + length);
        out.putInt(4, error);
        out.putLong(8, unique);
        Fuse.write(fd, out, OUT_HEADER + length);
    }
}
