package dev.runcible.core.lazy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/** For {@code doctor}: serves a small file over FUSE as a lazy layer would be, and reads it back. */
public final class FuseProbe {
    private FuseProbe() {
    }

    /** Empty when a FUSE file mounts and reads back right in {@code directory}; otherwise what went wrong. */
    public static Optional<String> run(Path directory) {
        if (Fuse.unavailable().isPresent()) {
            return Optional.of("libc cannot be called through JNA: " + Fuse.unavailable().get());
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return Optional.of("/dev/fuse does not exist");
        }
        byte[] bytes = new byte[256 << 10];
        Arrays.fill(bytes, (byte) 'r');
        FuseFile.Source source = new FuseFile.Source() {
            @Override
            public long size() {
                return bytes.length;
            }

            @Override
            public void read(long position, ByteBuffer target) {
                target.put(bytes, (int) position, target.remaining());
            }
        };
        Path file = null;
        try {
            Files.createDirectories(directory);
            file = Files.createTempFile(directory, "fuse-probe.", ".bin");
            try (FuseFile fuse = FuseFile.mount(file, source, 1)) {
                return Arrays.equals(Files.readAllBytes(file), bytes) ? Optional.empty()
                        : Optional.of("the FUSE file read back wrong");
            }
        } catch (IOException | RuntimeException e) {
            return Optional.of(e.getMessage());
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // a file in the run directory; gc has no business with it, but it is empty
                }
            }
        }
    }
}
