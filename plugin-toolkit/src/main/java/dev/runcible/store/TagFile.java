package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.TagRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Storm/YARN {@code image-tag-to-hash} file: lines {@code name1,name2:<64 hex>#comment}. The names may hold
 * ':' themselves (registry ports, tags), so a line splits at its last ':'. Lines starting with '#' and blank lines
 * are skipped; a bad line is reported with its number and skipped, so one typo does not take every image down.
 *
 * <p>A parsed file is an index over its own text: a store's tag file can hold 100,000 lines and is parsed again
 * whenever it changes, so parsing keeps only offsets in a few int arrays and an open-addressing table keyed by the
 * names' text. No string, record or map entry is made per line; a lookup makes its digest when asked, and
 * {@link #records()} and {@link #byName()} are built on first use for the callers that want every line.
 */
public final class TagFile {
    private final String content;
    private final List<String> problems;
    /** Per name occurrence: start and end of the name, start of its line's hex digest. */
    private int[] occurrences = new int[3 * 64];
    private int occurrenceCount;
    /** Per valid line: index of its first name occurrence and how many names it has. */
    private int[] lines = new int[2 * 64];
    private int lineCount;
    /** Open addressing, linear probing: 0 for empty, else 1 + the latest occurrence of a distinct name. */
    private int[] slots = new int[128];
    private int distinctNames;
    private volatile Digest[] digests;
    private volatile List<TagRecord> records;
    private volatile Map<String, Digest> byName;

    private TagFile(String content, String source) {
        this.content = content;
        List<String> found = new ArrayList<>();
        index(source, found);
        this.problems = List.copyOf(found);
    }

    public static TagFile parse(String content, String source) {
        return new TagFile(content, source);
    }

    /** The manifest the name points at (the last line naming it wins), or null. */
    public Digest manifestOf(String name) {
        int mask = slots.length - 1;
        for (int slot = spread(name.hashCode()) & mask; ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == 0) {
                return null;
            }
            int at = 3 * (entry - 1);
            int start = occurrences[at];
            int length = occurrences[at + 1] - start;
            if (length == name.length() && content.regionMatches(start, name, 0, length)) {
                return cachedDigest(entry - 1);
            }
        }
    }

    /** How many distinct names the file gives. */
    public int nameCount() {
        return distinctNames;
    }

    /** One message per bad line, naming the source and line number. */
    public List<String> problems() {
        return problems;
    }

    /** Every valid line, in file order. */
    public List<TagRecord> records() {
        List<TagRecord> built = records;
        if (built == null) {
            List<TagRecord> list = new ArrayList<>(lineCount);
            for (int line = 0; line < lineCount; line++) {
                int first = lines[2 * line];
                int count = lines[2 * line + 1];
                String[] names = new String[count];
                for (int i = 0; i < count; i++) {
                    names[i] = nameAt(first + i);
                }
                list.add(new TagRecord(List.of(names), digestAt(occurrences[3 * first + 2])));
            }
            built = Collections.unmodifiableList(list);
            records = built;
        }
        return built;
    }

    /** Each name to the manifest its last line gives. */
    public Map<String, Digest> byName() {
        Map<String, Digest> built = byName;
        if (built == null) {
            Map<String, Digest> map = new HashMap<>(Math.max(16, distinctNames * 2));
            for (int entry : slots) {
                if (entry != 0) {
                    map.put(nameAt(entry - 1), digestAt(occurrences[3 * (entry - 1) + 2]));
                }
            }
            built = Collections.unmodifiableMap(map);
            byName = built;
        }
        return built;
    }

    /** The digest of an occurrence's line, made once: a warm store resolves the same few names again and again. */
    private Digest cachedDigest(int occurrence) {
        Digest[] made = digests;
        if (made == null) {
            made = new Digest[occurrenceCount];
            digests = made;
        }
        Digest digest = made[occurrence];
        if (digest == null) {
            digest = digestAt(occurrences[3 * occurrence + 2]);
            made[occurrence] = digest; // a race makes an equal digest twice, which is harmless
        }
        return digest;
    }

    private String nameAt(int occurrence) {
        return content.substring(occurrences[3 * occurrence], occurrences[3 * occurrence + 1]);
    }

    private Digest digestAt(int hexStart) {
        return new Digest(Digest.SHA256, content.substring(hexStart, hexStart + 64));
    }

    private void index(String source, List<String> found) {
        int length = content.length();
        int lineNumber = 0;
        int hash = content.indexOf('#');
        for (int start = 0; start <= length; lineNumber++) {
            int newline = content.indexOf('\n', start);
            int end = newline < 0 ? length : newline;
            int lineStart = start;
            start = end + 1;
            if (hash >= 0 && hash < lineStart) {
                hash = content.indexOf('#', lineStart);
            }
            int bodyEnd = TagText.trimEnd(content, lineStart, hash >= 0 && hash < end ? hash : end);
            int bodyStart = TagText.trimStart(content, lineStart, bodyEnd);
            if (bodyStart == bodyEnd) {
                continue;
            }
            int colon = TagText.lastIndexOf(content, ':', bodyStart, bodyEnd);
            if (colon < 0) {
                found.add(where(source, lineNumber) + ": '" + content.substring(bodyStart, bodyEnd)
                        + "' has no ':<manifest hash>'");
                continue;
            }
            int hexStart = TagText.trimStart(content, colon + 1, bodyEnd);
            if (!TagText.isHex(content, hexStart, bodyEnd)) {
                found.add(where(source, lineNumber) + ": manifest hash '" + content.substring(hexStart, bodyEnd)
                        + "' is not 64 lowercase hex digits");
                continue;
            }
            int first = occurrenceCount;
            String badName = addNames(bodyStart, colon, hexStart);
            if (badName != null) {
                occurrenceCount = first;
                found.add(where(source, lineNumber) + ": image name '" + badName + "' is empty or has white space");
                continue;
            }
            if (2 * lineCount + 2 > lines.length) {
                lines = Arrays.copyOf(lines, lines.length * 2);
            }
            lines[2 * lineCount] = first;
            lines[2 * lineCount + 1] = occurrenceCount - first;
            lineCount++;
            // A later line wins, as when Storm's tooling appends a newer line for a moved tag.
            for (int occurrence = first; occurrence < occurrenceCount; occurrence++) {
                insert(occurrence);
            }
        }
    }

    /**
     * Records the comma-separated names in [from, to) as occurrences. Returns null, or the first name that is empty
     * or has white space (the caller then drops the line's occurrences).
     */
    private String addNames(int from, int to, int hexStart) {
        for (int nameStart = from; nameStart <= to; ) {
            int comma = TagText.indexOf(content, ',', nameStart, to);
            int nameEnd = comma < 0 ? to : comma;
            int end = TagText.trimEnd(content, nameStart, nameEnd);
            int begin = TagText.trimStart(content, nameStart, end);
            if (begin == end || TagText.hasWhitespace(content, begin, end)) {
                return content.substring(begin, end);
            }
            if (3 * occurrenceCount + 3 > occurrences.length) {
                occurrences = Arrays.copyOf(occurrences, occurrences.length * 2);
            }
            occurrences[3 * occurrenceCount] = begin;
            occurrences[3 * occurrenceCount + 1] = end;
            occurrences[3 * occurrenceCount + 2] = hexStart;
            occurrenceCount++;
            nameStart = nameEnd + 1;
        }
        return null;
    }

    private void insert(int occurrence) {
        if (2 * (distinctNames + 1) > slots.length) {
            rehash(slots.length * 2);
        }
        int start = occurrences[3 * occurrence];
        int length = occurrences[3 * occurrence + 1] - start;
        int mask = slots.length - 1;
        for (int slot = spread(hashOf(start, length)) & mask; ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == 0) {
                slots[slot] = occurrence + 1;
                distinctNames++;
                return;
            }
            int other = occurrences[3 * (entry - 1)];
            if (occurrences[3 * (entry - 1) + 1] - other == length
                    && content.regionMatches(other, content, start, length)) {
                slots[slot] = occurrence + 1;
                return;
            }
        }
    }

    private void rehash(int size) {
        int[] old = slots;
        slots = new int[size];
        int mask = size - 1;
        for (int entry : old) {
            if (entry != 0) {
                int start = occurrences[3 * (entry - 1)];
                int slot = spread(hashOf(start, occurrences[3 * (entry - 1) + 1] - start)) & mask;
                while (slots[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = entry;
            }
        }
    }

    /** The same value as {@link String#hashCode()} of the region, so a lookup can use the name's cached hash. */
    private int hashOf(int start, int length) {
        int h = 0;
        for (int i = start; i < start + length; i++) {
            h = 31 * h + content.charAt(i);
        }
        return h;
    }

    /** Fibonacci hashing: names that differ only in their last characters still land far apart. */
    private static int spread(int h) {
        int mixed = h * 0x9E3779B9;
        return mixed ^ (mixed >>> 16);
    }

    private static String where(String source, int index) {
        return source + " line " + (index + 1);
    }
}
