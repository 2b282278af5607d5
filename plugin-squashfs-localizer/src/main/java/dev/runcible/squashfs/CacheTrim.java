package dev.runcible.squashfs;

import dev.runcible.api.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What {@code gc} removes from the layer cache: downloads interrupted over an hour ago, then, beyond the cache's
 * size limit, the least recently used files (a hit touches a layer's digest record or a config's own modification
 * time), never one in use.
 */
final class CacheTrim {
    /** Interrupted downloads older than this are someone's leftovers, not a transfer in progress. */
    static final long STALE_PART_MILLIS = 3_600_000;

    private CacheTrim() {
    }

    /** Trims the cache at {@code root} to {@code maxBytes} (0: no limit); returns the bytes removed. */
    static long trim(Path root, long maxBytes, Set<Digest> inUse) throws IOException {
        long removed = 0;
        Path tmp = root.resolve("tmp");
        if (Files.isDirectory(tmp)) {
            try (Stream<Path> parts = Files.list(tmp)) {
                for (Path part : parts.toList()) {
                    if (System.currentTimeMillis() - Files.getLastModifiedTime(part).toMillis()
                            > STALE_PART_MILLIS) {
                        removed += Files.size(part);
                        Files.deleteIfExists(part);
                    }
                }
            }
        }
        if (maxBytes <= 0) {
            return removed;
        }
        record Entry(Path file, Digest digest, long size, long used) {
        }
        List<Entry> entries = new ArrayList<>();
        long total = 0;
        for (String dir : List.of("layers", "config")) {
            Path directory = root.resolve(dir);
            if (!Files.isDirectory(directory)) {
                continue;
            }
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : files.toList()) {
                    String name = file.getFileName().toString();
                    String hex = name.endsWith(".sqsh") ? name.substring(0, name.length() - 5) : name;
                    if (!Digest.isHex(hex)) {
                        continue; // digest records go with their layer
                    }
                    long size = Files.size(file);
                    total += size;
                    Path record = SquashfsCache.digestRecord(file);
                    long used = Files.getLastModifiedTime(file).toMillis();
                    if (Files.exists(record)) { // a layer's hits are stamped on its digest record
                        used = Math.max(used, Files.getLastModifiedTime(record).toMillis());
                    }
                    entries.add(new Entry(file, new Digest(Digest.SHA256, hex), size, used));
                }
            }
        }
        entries.sort(Comparator.comparingLong(Entry::used));
        for (Entry entry : entries) {
            if (total <= maxBytes) {
                break;
            }
            if (inUse.contains(entry.digest())) {
                continue;
            }
            Files.deleteIfExists(entry.file());
            Files.deleteIfExists(SquashfsCache.digestRecord(entry.file()));
            Files.deleteIfExists(SourceCheck.record(entry.file()));
            total -= entry.size();
            removed += entry.size();
        }
        return removed;
    }
}
