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
    private static final int FUSE_INIT_EXT = 1 << 30;
    /** FUSE_OVER_IO_URING, in the second word of INIT's flags. */
    private static final int FUSE_OVER_IO_URING_2 = 1 << 9;
    private static final int FOPEN_KEEP_CACHE = 1 << 1;
    /** What {@link #answer} returns for a request that gets no answer. */
    private static final int NO_REPLY = Integer.MIN_VALUE;
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
    /** The io_uring entries made ready for this connection, or none: then every request comes through reads. */
    private final List<FuseRing> rings;
    private final int threads;
    private volatile boolean ringsAccepted;
    private final java.util.concurrent.atomic.AtomicBoolean ringsClosed =
            new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    private FuseFile(int fd, Path mountPoint, Source source, List<FuseRing> rings, int threads) {
        this.fd = fd;
        this.mountPoint = mountPoint;
        this.source = source;
        this.rings = rings;
        this.threads = threads;
    }

    /**
     * Mounts the source on {@code mountPoint} (an existing regular file) and answers the kernel from {@code threads}
     * threads: threads that read {@code /dev/fuse}, or, with {@code ioUring} on a node that has enabled FUSE over
     * io_uring, threads with an io_uring entry each, spread over the CPUs' queues (and one thread that reads what
     * still comes through {@code /dev/fuse}: INIT, FORGET, INTERRUPT). Reads of the file wait for the first answer;
     * none is lost between mount and start.
     */
    static FuseFile mount(Path mountPoint, Source source, int threads, boolean ioUring) {
        int fd = Fuse.libc().open("/dev/fuse", Fuse.O_RDWR | Fuse.O_CLOEXEC);
        FuseFile file = new FuseFile(fd, mountPoint, source, ioUring ? rings(fd, threads) : List.of(), threads);
        try {
            Fuse.mountFile(fd, mountPoint.toString());
        } catch (LastErrorException e) {
            file.rings.forEach(FuseRing::close);
            Fuse.libc().close(fd);
            throw e;
        }
        file.startReaders(file.rings.isEmpty() ? threads : 1);
        return file;
    }

    /**
     * io_uring entries for the connection on {@code fd}, {@code threads} in all (at least one a CPU), made before the
     * mount: INIT takes io_uring only if they could be made, for once it has, the kernel holds every request until
     * each CPU's queue has an entry. None when the node has not enabled FUSE over io_uring.
     */
    private static List<FuseRing> rings(int fd, int threads) {
        List<FuseRing> made = new ArrayList<>();
        if (!ioUringEnabled()) {
            return made;
        }
        int cpus = possibleCpus();
        try {
            for (int i = 0; i < Math.max(threads, cpus); i++) {
                made.add(new FuseRing(fd, i % cpus, MAX_READ, i < threads));
            }
        } catch (LastErrorException | IllegalStateException | UnsatisfiedLinkError e) {
            LOG.info("FUSE over io_uring is enabled on this node but an io_uring could not be made ({}); requests "
                    + "come through /dev/fuse", e.getMessage());
            made.forEach(FuseRing::close);
            made.clear();
        }
        return made;
    }

    /** Where the kernel says whether FUSE servers may take requests through io_uring. */
    private static final Path IO_URING_SWITCH = Path.of("/sys/module/fuse/parameters/enable_uring");

    /** Whether this node lets FUSE servers take requests through io_uring ({@code fuse.enable_uring}). */
    static boolean ioUringEnabled() {
        try {
            return java.nio.file.Files.readString(IO_URING_SWITCH).strip().equals("Y");
        } catch (IOException e) {
            return false; // a kernel without it
        }
    }

    /** The number of CPUs the kernel may ever run on, from {@code cpu/possible}: it makes a queue for each. */
    private static int possibleCpus() {
        try {
            String possible = java.nio.file.Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip();
            int last = 0;
            for (String range : possible.split(",")) {
                last = Math.max(last, Integer.parseInt(range.substring(range.indexOf('-') + 1)));
            }
            return last + 1;
        } catch (IOException | NumberFormatException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** Whether requests come through io_uring: INIT has taken it. */
    boolean throughIoUring() {
        return ringsAccepted;
    }

    private void startReaders(int count) {
        synchronized (workers) {
            for (int i = 0; i < count; i++) {
                start(this::serve, "fuse-" + workers.size());
            }
        }
    }

    /** Starts a thread per io_uring entry, once INIT has taken io_uring. */
    private void startRings() {
        synchronized (workers) {
            for (int i = 0; i < rings.size(); i++) {
                FuseRing ring = rings.get(i);
                start(() -> serve(ring), "fuse-ring-" + i);
            }
        }
    }

    private void start(Runnable serving, String name) {
        Thread worker = new Thread(serving, name);
        worker.setDaemon(true);
        worker.start();
        workers.add(worker);
    }

    /**
     * Answers the requests that come to one io_uring entry, from a thread kept on the entry's CPU: the kernel puts
     * a request in the queue of the CPU its reader runs on, and wakes the entry's thread, which then needs no other
     * CPU woken. Ends when the connection does.
     */
    private void serve(FuseRing ring) {
        ring.keepThisThreadOnItsCpu();
        ByteBuffer in = DirectBuffers.take(IN_HEADER + FuseRing.OP_HEADER_AT).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer header = ring.header;
        try {
            int result;
            try {
                result = ring.registerAndWait();
            } catch (LastErrorException e) {
                // The kernel would hold every request until this queue had an entry: end them instead.
                LOG.error("An io_uring entry for {} could not be registered ({}); ending its FUSE connection",
                        mountPoint, e.getMessage());
                abortConnection();
                return;
            }
            if (result < 0 && result != -Fuse.ENOTCONN) {
                // Refused: the kernel sends requests through /dev/fuse again.
                LOG.warn("The kernel refused an io_uring entry for {} (errno {}); reading /dev/fuse", mountPoint,
                        -result);
                startReaders(1);
                return;
            }
            while (result == 0) {
                in.put(0, header, 0, IN_HEADER).put(IN_HEADER, header, FuseRing.OP_HEADER_AT, FuseRing.OP_HEADER_AT);
                int length = answer(in.getInt(4), in, ring.payload);
                int error = length == NO_REPLY ? -Fuse.ENOSYS : Math.min(length, 0);
                length = Math.max(length, 0);
                header.putInt(0, OUT_HEADER + length);
                header.putInt(4, error);
                header.putLong(8, in.getLong(8));
                result = ring.commitAndWait(length);
            }
            if (result != -Fuse.ENOTCONN) {
                LOG.warn("The io_uring entry for {} ended with errno {}", mountPoint, -result);
            }
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Fuse.ENOTCONN) {
                LOG.warn("The io_uring entry for {} failed: {}", mountPoint, e.getMessage());
            }
        } finally {
            DirectBuffers.giveBack(in);
            ring.close();
        }
    }

    private void abortConnection() {
        try {
            Fuse.abort(mountPoint);
        } catch (IOException | RuntimeException e) {
            LOG.error("Aborting the FUSE connection of {} failed: {}", mountPoint, e.getMessage());
        }
    }

    Path mountPoint() {
        return mountPoint;
    }

    /** Waits until the filesystem is unmounted and every thread has seen it. */
    void awaitUnmounted() throws InterruptedException {
        List<Thread> all;
        synchronized (workers) {
            all = List.copyOf(workers);
        }
        for (Thread worker : all) {
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
            closeUnusedRings(); // unmounted before INIT
        }
    }

    /** Closes the io_uring entries, once, if INIT did not take them. */
    private void closeUnusedRings() {
        if (!ringsAccepted && ringsClosed.compareAndSet(false, true)) {
            rings.forEach(FuseRing::close);
        }
    }

    private void serve(ByteBuffer in, ByteBuffer out) {
        ByteBuffer body = out.slice(OUT_HEADER, MAX_READ).order(ByteOrder.LITTLE_ENDIAN);
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
                int length = answer(opcode, in, body);
                if (length != NO_REPLY) {
                    reply(out, Math.max(length, 0), Math.min(length, 0), unique);
                }
                if (opcode == FUSE_INIT && ringsAccepted) {
                    startRings();
                } else if (opcode == FUSE_INIT && !rings.isEmpty()) {
                    closeUnusedRings();
                    startReaders(threads - 1);
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

    /**
     * Writes the answer's body into {@code body} from its start; returns its length, the negative errno to answer
     * with, or {@link #NO_REPLY}.
     */
    private int answer(int opcode, ByteBuffer in, ByteBuffer body) {
        switch (opcode) {
            case FUSE_INIT -> {
                int minor = in.getInt(44);
                int offered = in.getInt(52);
                boolean extended = (offered & FUSE_INIT_EXT) != 0;
                ringsAccepted = !rings.isEmpty() && extended && (in.getInt(56) & FUSE_OVER_IO_URING_2) != 0;
                body.putInt(0, 7);
                body.putInt(4, Math.min(minor, 31));
                body.putInt(8, Math.min(in.getInt(48), MAX_READ));
                body.putInt(12, offered & (FUSE_ASYNC_READ | FUSE_MAX_PAGES | (ringsAccepted ? FUSE_INIT_EXT : 0)));
                body.putShort(16, (short) 16);
                body.putShort(18, (short) 12);
                body.putInt(20, 4096);
                body.putInt(24, 1);
                body.putShort(28, (short) (MAX_READ / 4096));
                for (int at = 30; at < 64; at++) {
                    body.put(at, (byte) 0);
                }
                body.putInt(32, ringsAccepted ? FUSE_OVER_IO_URING_2 : 0);
                return 64;
            }
            case FUSE_GETATTR -> {
                attributes(body);
                return 104;
            }
            case FUSE_OPEN -> {
                body.putLong(0, 0);
                body.putInt(8, FOPEN_KEEP_CACHE);
                body.putInt(12, 0);
                return 16;
            }
            case FUSE_READ -> {
                return read(in.getLong(48), in.getInt(56), body);
            }
            case FUSE_STATFS -> {
                for (int at = 0; at < 80; at++) {
                    body.put(at, (byte) 0);
                }
                body.putInt(40, 4096);
                body.putInt(44, 255);
                body.putInt(48, 4096);
                return 80;
            }
            case FUSE_FLUSH, FUSE_RELEASE, FUSE_DESTROY -> {
                return 0;
            }
            case FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT -> {
                return NO_REPLY;
            }
            default -> {
                return opcode == FUSE_LOOKUP ? -Fuse.ENOENT : -Fuse.ENOSYS;
            }
        }
    }

    private int read(long position, int size, ByteBuffer body) {
        long end = Math.min(source.size(), position + Math.min(size, MAX_READ));
        int length = (int) Math.max(0, end - position);
        body.clear().limit(length);
        try {
            source.read(position, body);
            return length;
        } catch (IOException | RuntimeException e) {
            LOG.debug("read of {} bytes at {} failed: {}", length, position, e.toString());
            return -Fuse.EIO;
        } finally {
            body.clear();
        }
    }

    private void attributes(ByteBuffer body) {
        for (int at = 0; at < 104; at++) {
            body.put(at, (byte) 0);
        }
        long size = source.size();
        body.putLong(0, ATTR_VALID_SECONDS);
        body.putLong(16, 1); // ino: the root
        body.putLong(24, size);
        body.putLong(32, (size + 511) / 512);
        body.putInt(76, 0100400); // a regular file, r-- for root
        body.putInt(80, 1);
        body.putInt(96, 4096);
    }

    private void reply(ByteBuffer out, int length, int error, long unique) {
        out.putInt(0, OUT_HEADER + length);
        out.putInt(4, error);
        out.putLong(8, unique);
        Fuse.write(fd, out, OUT_HEADER + length);
    }
}
