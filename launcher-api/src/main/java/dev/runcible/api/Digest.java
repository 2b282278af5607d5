package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;


/**
 * A content digest as the OCI image spec writes it, {@code algorithm:hex}. Only sha256 is accepted: it is what
 * registries, Storm and YARN stores use, and a store keyed by one algorithm cannot alias content.
 */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    public static final String SHA256 = "sha256";

    public Digest {
        requireNonNull(algorithm, "algorithm is null");
        requireNonNull(hex, "hex is null");
        if (!SHA256.equals(algorithm)) {
            throw new IllegalArgumentException("Unsupported digest algorithm: " + algorithm);
        }
        if (!isHex(hex)) {
            throw new IllegalArgumentException("Not 64 lowercase hex digits: " + hex);
        }
    }

    /** Parses {@code sha256:<64 hex>}. */
    public static Digest parse(String text) throws InvalidReferenceException {
        requireNonNull(text, "text is null");
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new InvalidReferenceException("Invalid digest '" + text + "': expected sha256:<64 lowercase hex digits>");
        }
        return build(text.substring(0, colon), text.substring(colon + 1), text);
    }

    /** Parses a bare 64-hex sha256 digest, the form Storm/YARN stores use in file names. */
    public static Digest ofHex(String hex) throws InvalidReferenceException {
        requireNonNull(hex, "hex is null");
        return build(SHA256, hex, hex);
    }

    /** Whether the text is 64 lowercase hex digits (a loop, not a regex: tag files of 100,000 lines call it). */
    public static boolean isHex(String text) {
        if (text == null || text.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static Digest build(String algorithm, String hex, String original) throws InvalidReferenceException {
        if (!SHA256.equals(algorithm)) {
            throw new InvalidReferenceException("Invalid digest '" + original + "': algorithm '" + algorithm
                    + "' is not supported, only sha256");
        }
        if (!isHex(hex)) {
            throw new InvalidReferenceException("Invalid digest '" + original
                    + "': expected 64 lowercase hex digits after 'sha256:'");
        }
        return new Digest(algorithm, hex);
    }

    /** The sha256 digest of some bytes. */
    public static Digest of(byte[] bytes) {
        MessageDigest sha256 = newSha256();
        sha256.update(bytes);
        return of(sha256);
    }

    /** The sha256 digest of a file's content. */
    public static Digest of(Path file) throws IOException {
        try (HashingInputStream in = hashing(Files.newInputStream(file))) {
            byte[] buffer = new byte[1 << 20];
            while (in.read(buffer) >= 0) {
                // hashed as it is read
            }
            return in.digest();
        }
    }

    /** A stream that hashes and counts the bytes read through it: every digest the launcher computes goes here. */
    public static HashingInputStream hashing(InputStream in) {
        return new HashingInputStream(in);
    }

    private static Digest of(MessageDigest finished) {
        return new Digest(SHA256, HexFormat.of().formatHex(finished.digest()));
    }

    /** A fresh SHA-256 hasher. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("The JDK has no SHA-256", e);
        }
    }

    /**
     * Hashes (sha256) and counts what is read through it. JDK only, as the rest of this module: Guava's
     * {@code HashingInputStream} would do the same and bring Guava to every plugin.
     */
    public static class HashingInputStream extends FilterInputStream {
        private final MessageDigest sha256 = newSha256();
        private long count;

        protected HashingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                sha256.update((byte) b);
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                sha256.update(buffer, offset, n);
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            return Math.max(read(new byte[(int) Math.min(Math.max(n, 0), 8192)]), 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        /** The bytes read so far. */
        public long count() {
            return count;
        }

        /** The digest of everything read so far (the stream is not to be read after this). */
        public Digest digest() {
            return of(sha256);
        }
    }

    /** The first 12 hex digits, as docker shows ids. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @Override
    public int compareTo(Digest other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
