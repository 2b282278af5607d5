package dev.runcible.store;

import dev.runcible.api.Digest;
import java.util.ArrayList;
import java.util.List;

/** Scanning and editing of tag-file text, for {@link TagFile}'s index and {@link StoreWriter}'s edits. */
final class TagText {
    private TagText() {
    }

    static int indexOf(String text, char wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == wanted) {
                return i;
            }
        }
        return -1;
    }

    static int lastIndexOf(String text, char wanted, int from, int to) {
        for (int i = to - 1; i >= from; i--) {
            if (text.charAt(i) == wanted) {
                return i;
            }
        }
        return -1;
    }

    static int trimStart(String text, int from, int to) {
        while (from < to && Character.isWhitespace(text.charAt(from))) {
            from++;
        }
        return from;
    }

    static int trimEnd(String text, int from, int to) {
        while (to > from && Character.isWhitespace(text.charAt(to - 1))) {
            to--;
        }
        return to;
    }

    static boolean isHex(String text, int from, int to) {
        if (to - from != 64) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    static boolean hasWhitespace(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** The file's text with each name in {@code names} moved to {@code manifest}, other lines kept as they are. */
    static String retag(String content, List<String> names, Digest manifest) {
        return without(content, names) + String.join(",", names) + ':' + manifest.hex() + '\n';
    }

    /** The file's text without the given names; a line left with no name goes, comments and bad lines stay. */
    static String without(String content, List<String> names) {
        StringBuilder out = new StringBuilder();
        for (String line : content.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            int hash = line.indexOf('#');
            String body = (hash >= 0 ? line.substring(0, hash) : line).strip();
            int colon = body.lastIndexOf(':');
            if (body.isEmpty() || colon < 0) {
                out.append(line).append('\n');
                continue;
            }
            List<String> kept = new ArrayList<>();
            for (String name : body.substring(0, colon).split(",", -1)) {
                if (!names.contains(name.strip())) {
                    kept.add(name.strip());
                }
            }
            if (kept.isEmpty()) {
                continue;
            }
            String comment = hash >= 0 ? line.substring(hash) : "";
            out.append(String.join(",", kept)).append(body.substring(colon)).append(comment).append('\n');
        }
        return out.toString();
    }
}
