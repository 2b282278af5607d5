package dev.runcible.core.lazy;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Direct buffers kept for the life of a server, by capacity: the FUSE threads' request and reply buffers, and the
 * buffers chunks are written to the local file from. A new direct buffer is zeroed, and its first touch of each page
 * faults: a server's eight FUSE threads allocating theirs (9 MiB) took 40 ms of CPU while the launcher waited for
 * it, and a thread's first write of a chunk from a heap buffer took as long again (the JDK's own direct copy). A
 * spare's warm-up leaves them here (its FUSE threads give theirs back when its mount ends, and chunk buffers are
 * reserved); a server started for a layer allocates them as it goes.
 */
final class DirectBuffers {
    private static final ConcurrentHashMap<Integer, ConcurrentLinkedQueue<ByteBuffer>> POOL =
            new ConcurrentHashMap<>();

    private DirectBuffers() {
    }

    /** Sets aside {@code count} buffers of {@code capacity} bytes. */
    static void reserve(int count, int capacity) {
        for (int i = 0; i < count; i++) {
            giveBack(ByteBuffer.allocateDirect(capacity));
        }
    }

    /** A cleared buffer of {@code capacity} bytes, set aside or new; give it back when done. */
    static ByteBuffer take(int capacity) {
        ConcurrentLinkedQueue<ByteBuffer> kept = POOL.get(capacity);
        ByteBuffer buffer = kept == null ? null : kept.poll();
        return buffer == null ? ByteBuffer.allocateDirect(capacity) : buffer.clear();
    }

    static void giveBack(ByteBuffer buffer) {
        POOL.computeIfAbsent(buffer.capacity(), ignored -> new ConcurrentLinkedQueue<>()).add(buffer);
    }
}
