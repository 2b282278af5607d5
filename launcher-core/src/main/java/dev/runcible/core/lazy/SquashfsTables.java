package dev.runcible.core.lazy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a squashfs image keeps what every lookup reads: its superblock (the first bytes) and its tables, which
 * mksquashfs writes after all file data (inodes, directories, fragments, ids, from {@code inode_table_start} to
 * {@code bytes_used}). Mounting the image and resolving any path read them before any file's data, so a lazy layer
 * fetches their chunks first, all at once, instead of one missed read after another.
 */
final class SquashfsTables {
    /** The superblock's length, and where its fields are (squashfs 4.0, little-endian). */
    static final int SUPERBLOCK = 96;
    private static final int MAGIC = 0x73717368;
    private static final int BYTES_USED = 40;
    private static final int INODE_TABLE_START = 64;
    /**
     * The most bytes fetched this way; the last ones when the tables are larger (the directory table and the
     * small tables are at the end): an image of millions of files should not fetch tens of mebibytes up front.
     */
    static final int MAX_BYTES = 32 << 20;

    private SquashfsTables() {
    }

    /**
     * The chunks (of {@code chunkSize} bytes, {@code count} of them) holding the tables of the image whose first
     * {@link #SUPERBLOCK} bytes are {@code superblock}, in file order; none when it is not a squashfs 4 image or
     * its offsets make no sense.
     */
    static List<Integer> chunks(ByteBuffer superblock, int chunkSize, int count) {
        ByteBuffer sb = superblock.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (sb.remaining() < SUPERBLOCK || sb.getInt(sb.position()) != MAGIC) {
            return List.of();
        }
        long bytesUsed = sb.getLong(sb.position() + BYTES_USED);
        long tables = sb.getLong(sb.position() + INODE_TABLE_START);
        long size = (long) chunkSize * count;
        if (tables <= 0 || bytesUsed <= tables || bytesUsed > size) {
            return List.of();
        }
        int last = (int) ((bytesUsed - 1) / chunkSize);
        int first = Math.max((int) (tables / chunkSize), last - MAX_BYTES / chunkSize + 1);
        List<Integer> chunks = new ArrayList<>();
        for (int chunk = first; chunk <= last; chunk++) {
            chunks.add(chunk);
        }
        return chunks;
    }
}
