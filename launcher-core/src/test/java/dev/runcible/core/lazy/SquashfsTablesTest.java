package dev.runcible.core.lazy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chunks of a squashfs image's tables, found from its superblock. */
class SquashfsTablesTest {
    private static final int CHUNK = 1 << 20;

    private static ByteBuffer superblock(int magic, long bytesUsed, long inodeTableStart) {
        ByteBuffer sb = ByteBuffer.allocate(SquashfsTables.SUPERBLOCK).order(ByteOrder.LITTLE_ENDIAN);
        sb.putInt(0, magic);
        sb.putLong(40, bytesUsed);
        sb.putLong(64, inodeTableStart);
        return sb;
    }

    @Test
    void theChunksFromTheInodeTableToTheEndOfTheImage() {
        assertThat(SquashfsTables.chunks(superblock(0x73717368, 130L * CHUNK + 5, 127L * CHUNK + 7), CHUNK, 131))
                .containsExactly(127, 128, 129, 130);
        assertThat(SquashfsTables.chunks(superblock(0x73717368, 3 * CHUNK, 3 * CHUNK - 100), CHUNK, 3))
                .as("bytes_used on a chunk boundary").containsExactly(2);
    }

    @Test
    void tablesLargerThanTheLimitGiveTheirLastChunks() {
        assertThat(SquashfsTables.chunks(superblock(0x73717368, 200L * CHUNK, 10L * CHUNK), CHUNK, 200))
                .hasSize(SquashfsTables.MAX_BYTES / CHUNK).startsWith(200 - SquashfsTables.MAX_BYTES / CHUNK)
                .endsWith(199);
    }

    @Test
    void anythingButASoundSquashfsSuperblockGivesNone() {
        assertThat(SquashfsTables.chunks(superblock(0x12345678, 3 * CHUNK, CHUNK), CHUNK, 3)).as("magic").isEmpty();
        assertThat(SquashfsTables.chunks(superblock(0x73717368, 9L * CHUNK, CHUNK), CHUNK, 3)).as("past the end")
                .isEmpty();
        assertThat(SquashfsTables.chunks(superblock(0x73717368, CHUNK, 2L * CHUNK), CHUNK, 3))
                .as("tables after the end").isEmpty();
        assertThat(SquashfsTables.chunks(ByteBuffer.allocate(40), CHUNK, 3)).as("too short").isEmpty();
    }

    @Test
    void anImageFromMksquashfsHasItsTablesAfterItsData(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mksquashfs")), "mksquashfs is installed");
        Path content = Files.createDirectories(dir.resolve("content"));
        byte[] data = new byte[3 << 20]; // random: squashfs stores it as it is
        new SplittableRandom(5).nextBytes(data);
        Files.write(content.resolve("data"), data);
        Files.writeString(content.resolve("small"), "a fragment");
        Path image = dir.resolve("image.sqsh");
        Process mksquashfs = new ProcessBuilder("/usr/bin/mksquashfs", content.toString(), image.toString(),
                "-noappend", "-no-progress", "-quiet").redirectErrorStream(true).start();
        mksquashfs.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(mksquashfs.waitFor()).isZero();
        byte[] first = new byte[SquashfsTables.SUPERBLOCK];
        try (InputStream in = Files.newInputStream(image)) {
            assertThat(in.readNBytes(first, 0, first.length)).isEqualTo(first.length);
        }
        int chunk = 64 << 10;
        int count = (int) ((Files.size(image) + chunk - 1) / chunk);
        assertThat(SquashfsTables.chunks(ByteBuffer.wrap(first), chunk, count))
                .as("past the 3 MiB of data, up to the image's last chunk").isNotEmpty()
                .allMatch(c -> c >= (3 << 20) / chunk).contains(count - 1);
    }
}
