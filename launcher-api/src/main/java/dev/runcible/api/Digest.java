package dev.runcible.api;

import static java.util.Objects.requireNonNull;


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
