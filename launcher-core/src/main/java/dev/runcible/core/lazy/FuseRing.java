package dev.runcible.core.lazy;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One entry of a FUSE connection's io_uring queues (the kernel's "FUSE over io_uring", off unless the node sets
 * {@code fuse.enable_uring}), with an io_uring of its own. The kernel puts a request for the file in the queue of
 * the CPU its reader runs on, into an entry's buffers, and completes that entry's command; the thread that owns the
 * entry answers in the same buffers and, in one {@code io_uring_enter}, commits the answer and waits for the next
 * request. Through {@code /dev/fuse} each request is a read(2) and a write(2) by whichever server thread the kernel
 * wakes, on whichever CPU; here the thread of a CPU's queue stays on that CPU, so the reader and the server hand the
 * request over on one CPU, without waking another.
 *
 * <p>Each ring is made disabled, in the thread that mounts, and enabled by the thread that uses it, which the kernel
 * then takes for its only submitter: so the kernel runs a request's hand-over work when that thread waits for it
 * ({@code IORING_SETUP_DEFER_TASKRUN}), instead of interrupting it. Layouts are the kernel's
 * (include/uapi/linux/io_uring.h and fuse.h, FUSE 7.42): 128-byte submission entries, the FUSE command in the
 * entry's command area at 48; an entry's header buffer of 288 bytes (the request's or answer's FUSE header at 0, the
 * operation's header at 128, the request's id at 264 and the payload's size at 272).
 */
final class FuseRing implements AutoCloseable {
    static final int HEADER = 288;
    static final int OP_HEADER_AT = 128;
    private static final int COMMIT_ID_AT = 264;
    private static final int PAYLOAD_SIZE_AT = 272;

    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;
    private static final int REGISTER_ENABLE_RINGS = 12;
    private static final int SETUP_R_DISABLED = 1 << 6;
    private static final int SETUP_SQE128 = 1 << 10;
    private static final int SETUP_SINGLE_ISSUER = 1 << 12;
    private static final int SETUP_DEFER_TASKRUN = 1 << 13;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final int ENTER_GETEVENTS = 1;
    private static final long OFF_SQES = 0x10000000L;
    private static final int OP_URING_CMD = 46;
    private static final int SQE_SIZE = 128;
    private static final int CQE_SIZE = 16;
    private static final int CMD_REGISTER = 1;
    private static final int CMD_COMMIT_AND_FETCH = 2;
    private static final int PROT_READ_WRITE = 3;
    private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;
    /** glibc's cpu_set_t: 1024 CPUs. */
    private static final int CPU_SET_BYTES = 128;

    private final int ring;
    private final Pointer rings;
    private final long ringsLength;
    private final Pointer sqes;
    private final long sqesLength;
    private final int sqTail;
    private final int sqMask;
    private final int sqArray;
    private final int cqHead;
    private final int cqTail;
    private final int cqMask;
    private final int cqes;
    private final Memory iovecs = new Memory(32);
    private final int fuse;
    private final int queue;
    private final ByteBuffer payloadBuffer;
    /** The kernel's header of the request (and then the answer) this entry holds. */
    final ByteBuffer header;
    /** The request's payload, and then the answer's. */
    final ByteBuffer payload;

    /** Native memory of a payload buffer that is not {@link DirectBuffers}', or null. */
    private final Memory payloadMemory;

    /**
     * An io_uring for one entry of queue {@code queue} of the FUSE connection on {@code fuse}, with buffers for
     * payloads of up to {@code payloadSize} bytes: {@link DirectBuffers}' if {@code pooled} (given back on close,
     * their pages touched already when a spare's warm-up left them), otherwise native memory that only the payloads
     * it carries touch (a node with many CPUs needs an entry on each, most of which few requests reach). Nothing is
     * registered yet.
     */
    FuseRing(int fuse, int queue, int payloadSize, boolean pooled) {
        this.fuse = fuse;
        this.queue = queue;
        this.header = DirectBuffers.take(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        this.payloadMemory = pooled ? null : new Memory(payloadSize);
        this.payloadBuffer = pooled ? DirectBuffers.take(payloadSize) : payloadMemory.getByteBuffer(0, payloadSize);
        this.payload = payloadBuffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        Memory params = new Memory(120);
        params.clear();
        params.setInt(8, SETUP_SQE128 | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_R_DISABLED);
        ring = (int) Fuse.Direct.syscall(SYS_IO_URING_SETUP, 2, Pointer.nativeValue(params), 0, 0, 0, 0);
        try {
            if ((params.getInt(20) & FEAT_SINGLE_MMAP) == 0) {
                throw new IllegalStateException("this kernel's io_uring needs two mappings");
            }
            int sqEntries = params.getInt(0);
            int cqEntries = params.getInt(4);
            sqTail = params.getInt(44);
            sqArray = params.getInt(64);
            cqHead = params.getInt(80);
            cqTail = params.getInt(84);
            cqes = params.getInt(100);
            ringsLength = Math.max(sqArray + 4L * sqEntries, cqes + (long) CQE_SIZE * cqEntries);
            sqesLength = (long) SQE_SIZE * sqEntries;
            rings = Fuse.libc().mmap(null, ringsLength, PROT_READ_WRITE, MAP_SHARED_POPULATE, ring, 0);
            sqMask = rings.getInt(params.getInt(48));
            cqMask = rings.getInt(params.getInt(88));
            try {
                sqes = Fuse.libc().mmap(null, sqesLength, PROT_READ_WRITE, MAP_SHARED_POPULATE, ring, OFF_SQES);
            } catch (RuntimeException e) {
                Fuse.libc().munmap(rings, ringsLength);
                throw e;
            }
        } catch (RuntimeException e) {
            Fuse.libc().close(ring);
            giveBackBuffers();
            throw e;
        }
        iovecs.setLong(0, Pointer.nativeValue(Native.getDirectBufferPointer(header)));
        iovecs.setLong(8, HEADER);
        iovecs.setLong(16, Pointer.nativeValue(Native.getDirectBufferPointer(payload)));
        iovecs.setLong(24, payload.capacity());
    }

    /**
     * Keeps the calling thread on the CPU whose queue this entry is in, where the kernel wakes it; a thread that may
     * not run there (a CPU set without it) stays where it may.
     */
    void keepThisThreadOnItsCpu() {
        Memory mask = new Memory(CPU_SET_BYTES);
        mask.clear();
        mask.setByte(queue / 8, (byte) (1 << (queue % 8)));
        try {
            Fuse.libc().sched_setaffinity(0, CPU_SET_BYTES, mask);
        } catch (LastErrorException e) {
            // EINVAL: not a CPU this thread may use
        }
    }

    /**
     * Registers the entry and waits for its first request: 0 when one is in the buffers, or the negative errno the
     * kernel ended the command with (-ENOTCONN when the connection ends).
     */
    int registerAndWait() {
        // One thread submits to this ring: the first to enable it, its owner.
        Fuse.Direct.syscall(SYS_IO_URING_REGISTER, ring, REGISTER_ENABLE_RINGS, 0, 0, 0, 0);
        return submitAndWait(CMD_REGISTER, 0);
    }

    /**
     * Commits the answer in the buffers (its FUSE header in {@link #header}, {@code payloadSize} bytes of payload)
     * and waits for the next request: as {@link #registerAndWait()}.
     */
    int commitAndWait(int payloadSize) {
        header.putInt(PAYLOAD_SIZE_AT, payloadSize);
        return submitAndWait(CMD_COMMIT_AND_FETCH, header.getLong(COMMIT_ID_AT));
    }

    private int submitAndWait(int command, long commitId) {
        int tail = rings.getInt(sqTail);
        int index = tail & sqMask;
        long at = (long) index * SQE_SIZE;
        sqes.setMemory(at, SQE_SIZE, (byte) 0);
        sqes.setByte(at, (byte) OP_URING_CMD);
        sqes.setInt(at + 4, fuse);
        sqes.setInt(at + 8, command);
        sqes.setLong(at + 16, Pointer.nativeValue(iovecs));
        sqes.setInt(at + 24, 2);
        sqes.setLong(at + 48 + 8, commitId);
        sqes.setShort(at + 48 + 16, (short) queue);
        rings.setInt(sqArray + 4L * index, index);
        rings.setInt(sqTail, tail + 1);
        int head = rings.getInt(cqHead);
        while (rings.getInt(cqTail) == head) {
            try {
                // Submits at most what the ring holds: this entry, or none again after an interrupted wait.
                Fuse.Direct.syscall(SYS_IO_URING_ENTER, ring, 1, 1, ENTER_GETEVENTS, 0, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Fuse.EINTR && e.getErrorCode() != Fuse.EAGAIN) {
                    throw e;
                }
            }
        }
        int result = rings.getInt(cqes + (long) (head & cqMask) * CQE_SIZE + 8);
        rings.setInt(cqHead, head + 1);
        return result;
    }

    @Override
    public void close() {
        // A mapping holds the ring: closing its descriptor alone would leave it in the kernel.
        Fuse.libc().munmap(sqes, sqesLength);
        Fuse.libc().munmap(rings, ringsLength);
        Fuse.libc().close(ring);
        giveBackBuffers();
    }

    private void giveBackBuffers() {
        DirectBuffers.giveBack(header);
        if (payloadMemory == null) {
            DirectBuffers.giveBack(payloadBuffer);
        } else {
            payloadMemory.close();
        }
    }
}
