package dev.runcible.squashfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The two facts of a squashfs superblock that tell a whole image from a truncated or foreign file: the magic
 * number and {@code bytes_used}, the length of the filesystem (the file is that long, or padded beyond it).
 */
record SquashfsSuperblock(long bytesUsed) {
    static final int MAGIC = 0x73717368; // "hsqs" little-endian
    static final int SIZE = 96;
    private static final int BYTES_USED_OFFSET = 40;

    /** Returns why the file is not a whole squashfs image, or null when it is. */
    static String check(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length < SIZE) {
                return "it is " + length + " bytes, shorter than a squashfs superblock";
            }
            ByteBuffer buffer = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read the whole superblock
            }
            buffer.flip();
            if (buffer.getInt(0) != MAGIC) {
                return "it does not start with the squashfs magic 'hsqs'";
            }
            long bytesUsed = buffer.getLong(BYTES_USED_OFFSET);
            if (bytesUsed > length) {
                return "it is truncated: the superblock says " + bytesUsed + " bytes, the file has " + length;
            }
            return null;
        }
    }
}
