package dev.runcible.squashfs;

import dev.runcible.api.Digest;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPInputStream;
import com.github.luben.zstd.ZstdInputStream;

/**
 * Turns a tar layer (plain, gzip or zstd) into an overlay-ready squashfs file without root and without unpacking
 * it: the stream is hashed as it arrives, decompressed, rewritten for overlay ({@link TarStreamRewriter}) and piped
 * into tar2sqfs. Download, decompression and compression all run at once.
 */
final class TarLayerConverter {
    private static final List<String> TAR2SQFS_OPTIONS = List.of("--quiet", "--force", "--no-skip");
    private static final int BUFFER = 1 << 20;

    /**
     * The squashfs compressors a layer may be written with ({@code squashfs.compression}). zstd at level 3 on all
     * cores is ten times faster than the default here and about as small; the kernel mounts it from Linux 4.14.
     * gzip (level 6), xz and lz4 are for nodes whose kernels lack zstd, as older Storm/YARN clusters' may.
     */
    enum Compression {
        ZSTD(List.of("--compressor", "zstd", "--comp-extra", "level=3")),
        GZIP(List.of("--compressor", "gzip", "--comp-extra", "level=6")),
        XZ(List.of("--compressor", "xz")),
        LZ4(List.of("--compressor", "lz4"));

        private final List<String> options;

        Compression(List<String> options) {
            this.options = options;
        }

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final String tar2sqfs;
    private final Compression compression;

    TarLayerConverter(String tar2sqfs) {
        this(tar2sqfs, Compression.ZSTD);
    }

    TarLayerConverter(String tar2sqfs, Compression compression) {
        this.tar2sqfs = tar2sqfs;
        this.compression = compression;
    }

    /** What was read: the digest and size of the layer as the store or registry serves it. */
    record Converted(Digest digest, long size, long entries) {
    }

    /**
     * Converts; when the layer cannot be converted, the rest of the stream is still read so that a layer whose
     * bytes are not the ones its digest names is reported as exactly that.
     */
    Converted convert(InputStream raw, OciResource.Format format, Path squashfs, String layer,
            Optional<Digest> expected) throws RuncibleException {
        List<String> command = new ArrayList<>(List.of(tar2sqfs));
        command.addAll(TAR2SQFS_OPTIONS);
        command.addAll(compression.options);
        command.add("--num-jobs");
        command.add(Integer.toString(Runtime.getRuntime().availableProcessors()));
        command.add(squashfs.toString());
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot run '" + tar2sqfs + "' to convert " + layer
                    + ": " + e.getMessage() + "; install squashfs-tools-ng or set squashfs.tar2sqfs", e);
        }
        CompletableFuture<String> messages = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
        Hashing hashing = new Hashing(raw, layer);
        TarStreamRewriter rewriter = new TarStreamRewriter(layer);
        try (OutputStream out = new BufferedOutputStream(process.getOutputStream(), BUFFER)) {
            rewriter.rewrite(decompress(hashing, format), out);
            out.flush();
            // The tar ends before its padding (and a compressed stream's trailer): hash those bytes too.
            hashing.transferTo(OutputStream.nullOutputStream());
        } catch (ResourceFailure failure) {
            process.destroyForcibly();
            waitQuietly(process);
            throw failure.failure;
        } catch (IOException | RuntimeException | InvalidImageException e) {
            process.destroyForcibly();
            waitQuietly(process);
            try {
                hashing.transferTo(OutputStream.nullOutputStream());
            } catch (ResourceFailure failure) {
                throw failure.failure;
            } catch (IOException ignored) {
                // the hash below then names what was read
            }
            Digest actual = hashing.digest();
            if (expected.isPresent() && !expected.get().equals(actual)) {
                throw new DigestMismatchException("Digest mismatch for " + layer + ": expected "
                        + expected.get() + ", got " + actual + "; the source serves damaged content");
            }
            if (e instanceof InvalidImageException invalid) {
                throw invalid;
            }
            String said = messages.join().strip();
            throw new InvalidImageException("Cannot convert " + layer + ": " + e.getMessage()
                    + (said.isEmpty() ? "" : " (tar2sqfs: " + said + ")"), e);
        }
        int exit = waitQuietly(process);
        if (exit != 0) {
            throw new InvalidImageException("tar2sqfs could not convert " + layer + " (exit " + exit + "): "
                    + messages.join().strip());
        }
        return new Converted(hashing.digest(), hashing.count(), rewriter.entries());
    }

    private static InputStream decompress(InputStream in, OciResource.Format format) throws IOException {
        return switch (format) {
            case TAR -> new BufferedInputStream(in, BUFFER / 4);
            case TAR_GZIP -> new GZIPInputStream(in, BUFFER / 4);
            case TAR_ZSTD -> new BufferedInputStream(new ZstdInputStream(in), BUFFER / 4);
            default -> throw new IllegalArgumentException("Not a tar format: " + format);
        };
    }

    private static int waitQuietly(Process process) {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** A failure of the source, not of the layer's content: reported as such. */
    static final class ResourceFailure extends IOException {
        final RuncibleException failure;

        ResourceFailure(RuncibleException failure) {
            super(failure.getMessage(), failure);
            this.failure = failure;
        }
    }

    /** Hashes and counts the raw bytes as the converter reads them; a failed read is the source's failure. */
    static final class Hashing extends Digest.HashingInputStream {
        private final String layer;

        Hashing(InputStream in, String layer) {
            super(in);
            this.layer = layer;
        }

        private ResourceFailure failed(IOException e) {
            if (e instanceof ResourceFailure failure) {
                return failure;
            }
            return new ResourceFailure(new ResourceUnavailableException("Transfer of layer " + layer
                    + " failed after " + count() + " bytes: " + e.getMessage(), e));
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            try {
                return super.read(buffer, offset, length);
            } catch (IOException e) {
                throw failed(e);
            }
        }
    }

    static Path locate(String name) {
        if (name.contains("/")) {
            return Path.of(name);
        }
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of((path == null ? "" : path).split(File.pathSeparator)));
        dirs.add("/usr/bin");
        dirs.add("/usr/local/bin");
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name);
            }
        }
        return Path.of(name);
    }
}
