package dev.runcible.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Storm/YARN {@code image-tag-to-hash} file: lines {@code name1,name2:<64 hex>#comment}. The names may hold
 * ':' themselves (registry ports, tags), so a line splits at its last ':'. Lines starting with '#' and blank lines
 * are skipped; a bad line is reported with its number and skipped, so one typo does not take every image down.
 */
public record TagFile(List<TagRecord> records, Map<String, Digest> byName, List<String> problems) {
    public static final String FILE_NAME = "image-tag-to-hash";

    public TagFile {
        records = List.copyOf(records);
        byName = Map.copyOf(byName);
        problems = List.copyOf(problems);
    }

    public static TagFile parse(String content, String source) {
        List<TagRecord> records = new ArrayList<>();
        Map<String, Digest> byName = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String[] lines = content.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            String body = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (body.isEmpty()) {
                continue;
            }
            int colon = body.lastIndexOf(':');
            if (colon < 0) {
                problems.add(where(source, i) + ": '" + body + "' has no ':<manifest hash>'");
                continue;
            }
            String hex = body.substring(colon + 1).strip();
            if (!Digest.isHex(hex)) {
                problems.add(where(source, i) + ": manifest hash '" + hex + "' is not 64 lowercase hex digits");
                continue;
            }
            List<String> names = new ArrayList<>(2);
            boolean bad = false;
            for (String name : body.substring(0, colon).split(",", -1)) {
                String trimmed = name.strip();
                if (trimmed.isEmpty() || hasWhitespace(trimmed)) {
                    problems.add(where(source, i) + ": image name '" + trimmed + "' is empty or has white space");
                    bad = true;
                    break;
                }
                names.add(trimmed);
            }
            if (bad) {
                continue;
            }
            Digest digest = new Digest(Digest.SHA256, hex);
            records.add(new TagRecord(names, digest));
            // A later line wins, as when Storm's tooling appends a newer line for a moved tag.
            for (String name : names) {
                byName.put(name, digest);
            }
        }
        return new TagFile(records, byName, problems);
    }

    private static String where(String source, int index) {
        return source + " line " + (index + 1);
    }

    private static boolean hasWhitespace(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** The file's text with each name in {@code names} moved to {@code manifest}, other lines kept as they are. */
    public static String retag(String content, List<String> names, Digest manifest) {
        return without(content, names) + String.join(",", names) + ':' + manifest.hex() + '\n';
    }

    /** The file's text without the given names; a line left with no name goes, comments and bad lines stay. */
    public static String without(String content, List<String> names) {
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
