package dev.runcible.core.cli;

import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.mount.Mounter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes an empty layer as the configured localizer writes every layer, and loop-mounts it: whether this kernel
 * has the squashfs compressor the node's layers use ({@code squashfs.compression}). Nothing is left behind.
 */
record LayerProbe(boolean mounted, String compressor, String error) {
    /** An empty tar: two zero blocks. */
    private static final int EMPTY_TAR = 1024;

    static LayerProbe run(ResourcesLocalizer localizer, Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path dir = Files.createTempDirectory(runDir, ".doctor-layer");
        Path file = dir.resolve("probe.sqsh");
        Path target = Files.createDirectory(dir.resolve("mnt"));
        Mounter mounter = new Mounter();
        try {
            localizer.convert(new ByteArrayInputStream(new byte[EMPTY_TAR]), file, "the doctor's probe layer");
            String compressor = compressor(file);
            try {
                mounter.mountSquashfs(file, target);
            } catch (RuncibleException e) {
                return new LayerProbe(false, compressor, e.getMessage());
            }
            mounter.unmount(target);
            return new LayerProbe(true, compressor, "");
        } catch (RuncibleException e) {
            return new LayerProbe(false, "?", e.getMessage());
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /** The compressor the superblock names (a little-endian short at offset 20). */
    static String compressor(Path squashfs) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(squashfs)) {
            head = in.readNBytes(22);
        }
        if (head.length < 22) {
            return "?";
        }
        return switch ((head[20] & 0xff) | (head[21] & 0xff) << 8) {
            case 1 -> "gzip";
            case 2 -> "lzma";
            case 3 -> "lzo";
            case 4 -> "xz";
            case 5 -> "lz4";
            case 6 -> "zstd";
            default -> "unknown";
        };
    }
}
