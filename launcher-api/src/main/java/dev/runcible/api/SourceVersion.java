package dev.runcible.api;

/**
 * What a store says of a file it holds, to tell whether it changed since a copy was taken: its length and
 * modification time. Stores whose files are rebuilt in place under the same name (Storm's {@code docker-to-squash.py
 * -f}) report it; content-addressed ones (a registry) need not.
 */
public record SourceVersion(long length, long modifiedMillis) {
    /** {@code "LENGTH MTIME"}, as the layer cache records it. */
    @Override
    public String toString() {
        return length + " " + modifiedMillis;
    }

    /** Reads {@link #toString()}'s form; null when the text is not in it. */
    public static SourceVersion parse(String text) {
        String[] parts = text.strip().split(" ");
        if (parts.length != 2) {
            return null;
        }
        try {
            return new SourceVersion(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
