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

    /** Whether this node lets FUSE servers take requests through io_uring (the kernel's fuse.enable_uring). */
    public static boolean ioUringEnabled() {
        return FuseFile.ioUringEnabled();
    }

    /**
     * Empty when a FUSE file mounts and reads back right in {@code directory}, its requests coming through io_uring
     * if {@code ioUring} and the node lets them; otherwise what went wrong.
     */
    public static Optional<String> run(Path directory, boolean ioUring) {
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
            try (FuseFile fuse = FuseFile.mount(file, source, 1, ioUring)) {
                if (!Arrays.equals(Files.readAllBytes(file), bytes)) {
                    return Optional.of("the FUSE file read back wrong");
                }
                return ioUring && ioUringEnabled() && !fuse.throughIoUring()
                        ? Optional.of("the kernel did not take io_uring for the FUSE file (see the server's log)")
                        : Optional.empty();
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
