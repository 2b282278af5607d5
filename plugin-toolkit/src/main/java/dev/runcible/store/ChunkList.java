package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidImageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The sha256 of every fixed-size chunk of a squashfs layer file, so a node can fetch and check any part of the file
 * alone: {@code layers/HEX.sqsh.chunks} beside the layer, itself checked against {@code layers/HEX.sqsh.chunks.sha256}
 * (sha256sum format). The text is line-based:
 * <pre>
 *   runcible-chunks 1
 *   size 155189248
 *   chunk-size 262144
 *   file sha256:HEX          the whole file's digest, as its .sqsh.sha256 record says
 *   HEX                      chunk 0
 *   ...                      one line per chunk; the last may be short
 * </pre>
 */
public final class ChunkList {
    /**
     * 256 KiB: what a start reads is checked, recorded and prefetched at this grain (a JVM's start read 20 MiB of
     * chunks of this size, 29 MiB of 1 MiB ones), while a fetch of missing chunks reads up to a mebibyte of them in
     * one round trip (the lazy layers' fetch size), as 1 MiB chunks did.
     */
    public static final int DEFAULT_CHUNK_SIZE = 256 << 10;
    /** The chunk size of the lists {@code import} writes: a power of two from 64k to 64m. */
    public static final String CHUNK_SIZE_KEY = "squashfs.chunk-size";
    public static final int MIN_CHUNK_SIZE = 64 << 10;
    public static final int MAX_CHUNK_SIZE = 64 << 20;
    private static final String MAGIC = "runcible-chunks 1";
    private static final int HASH = 32;
    private static final HexFormat HEX = HexFormat.of();

    private final long size;
    private final int chunkSize;
    private final Digest fileDigest;
    private final byte[] hashes;

    private ChunkList(long size, int chunkSize, Digest fileDigest, byte[] hashes) {
        this.size = size;
        this.chunkSize = chunkSize;
        this.fileDigest = fileDigest;
        this.hashes = hashes;
    }

    /** Reads a whole file once, hashing each chunk and the file; {@code size} is the length the file must have. */
    public static ChunkList compute(InputStream in, long size, int chunkSize) throws IOException {
        checkChunkSize(chunkSize);
        int chunks = chunkCount(size, chunkSize);
        byte[] hashes = new byte[chunks * HASH];
        MessageDigest whole = Digest.newSha256();
        MessageDigest chunk = Digest.newSha256();
        byte[] buffer = new byte[chunkSize];
        for (int i = 0; i < chunks; i++) {
            int length = (int) Math.min(chunkSize, size - (long) i * chunkSize);
            if (in.readNBytes(buffer, 0, length) != length) {
                throw new java.io.EOFException("The file ended before its " + size + " bytes");
            }
            whole.update(buffer, 0, length);
            chunk.update(buffer, 0, length);
            System.arraycopy(chunk.digest(), 0, hashes, i * HASH, HASH);
        }
        if (in.read() != -1) {
            throw new IOException("The file is longer than " + size + " bytes");
        }
        return new ChunkList(size, chunkSize, new Digest(Digest.SHA256, HEX.formatHex(whole.digest())), hashes);
    }

    /** Parses a chunk list read from {@code where}; anything malformed is a typed error naming it. */
    public static ChunkList parse(byte[] bytes, String where) throws InvalidImageException {
        String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n");
        try {
            if (lines.length < 4 || !lines[0].equals(MAGIC)) {
                throw new IllegalArgumentException("it does not start with '" + MAGIC + "'");
            }
            long size = Long.parseLong(field(lines[1], "size"));
            int chunkSize = Integer.parseInt(field(lines[2], "chunk-size"));
            checkChunkSize(chunkSize);
            Digest file = Digest.parse(field(lines[3], "file"));
            int chunks = chunkCount(size, chunkSize);
            if (lines.length - 4 != chunks) {
                throw new IllegalArgumentException("it lists " + (lines.length - 4) + " chunks, a file of " + size
                        + " bytes has " + chunks);
            }
            byte[] hashes = new byte[chunks * HASH];
            for (int i = 0; i < chunks; i++) {
                if (lines[4 + i].length() != 2 * HASH) {
                    throw new IllegalArgumentException("line " + (5 + i) + " is not a sha256 in hex");
                }
                System.arraycopy(HEX.parseHex(lines[4 + i]), 0, hashes, i * HASH, HASH);
            }
            return new ChunkList(size, chunkSize, file, hashes);
        } catch (IllegalArgumentException | dev.runcible.api.RuncibleException e) {
            throw new InvalidImageException("Chunk list " + where + " is malformed: " + e.getMessage()
                    + "; write it again with 'runcible store index'");
        }
    }

    /** The configured chunk size ({@value #CHUNK_SIZE_KEY}); a bad value is reported as a configuration problem. */
    public static int configuredSize(dev.runcible.api.PluginConfig config) {
        long size = config.bytes(CHUNK_SIZE_KEY, DEFAULT_CHUNK_SIZE);
        if (!isValidSize(size)) {
            config.problem(CHUNK_SIZE_KEY, "must be a power of two from 64k to 64m, such as 1m; got " + size
                    + " bytes");
            return DEFAULT_CHUNK_SIZE;
        }
        return (int) size;
    }

    private static String field(String line, String name) {
        if (!line.startsWith(name + " ")) {
            throw new IllegalArgumentException("expected '" + name + " ...', got '" + line + "'");
        }
        return line.substring(name.length() + 1);
    }

    /** Whether chunks may be {@code size} bytes: a power of two from 64k to 64m. */
    public static boolean isValidSize(long size) {
        return size >= MIN_CHUNK_SIZE && size <= MAX_CHUNK_SIZE && Long.bitCount(size) == 1;
    }

    private static void checkChunkSize(int chunkSize) {
        if (!isValidSize(chunkSize)) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is not a power of two from "
                    + MIN_CHUNK_SIZE + " to " + MAX_CHUNK_SIZE);
        }
    }

    private static int chunkCount(long size, int chunkSize) {
        if (size < 0) {
            throw new IllegalArgumentException("size " + size + " is negative");
        }
        long chunks = (size + chunkSize - 1) / chunkSize;
        if (chunks > Integer.MAX_VALUE / HASH) {
            throw new IllegalArgumentException("a file of " + size + " bytes has too many chunks of " + chunkSize);
        }
        return (int) chunks;
    }

    public byte[] format() {
        StringBuilder text = new StringBuilder(MAGIC).append('\n').append("size ").append(size).append('\n')
                .append("chunk-size ").append(chunkSize).append('\n').append("file ").append(fileDigest)
                .append('\n');
        for (int i = 0; i < chunks(); i++) {
            text.append(HEX.formatHex(hashes, i * HASH, (i + 1) * HASH)).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    public long size() {
        return size;
    }

    public int chunkSize() {
        return chunkSize;
    }

    /** The whole file's digest. */
    public Digest fileDigest() {
        return fileDigest;
    }

    public int chunks() {
        return hashes.length / HASH;
    }

    public long offset(int chunk) {
        return (long) chunk * chunkSize;
    }

    public int length(int chunk) {
        return (int) Math.min(chunkSize, size - offset(chunk));
    }

    /** Whether {@code length(chunk)} bytes of {@code data} from {@code offset} are that chunk. */
    public boolean matches(int chunk, byte[] data, int offset) {
        MessageDigest sha = Digest.newSha256();
        sha.update(data, offset, length(chunk));
        return Arrays.equals(sha.digest(), 0, HASH, hashes, chunk * HASH, (chunk + 1) * HASH);
    }

    /** The record that checks a chunk list's own bytes, in sha256sum format. */
    public static String record(byte[] chunkList, String fileName) {
        return StoreLayout.digestRecord(Digest.of(chunkList), fileName);
    }
}
