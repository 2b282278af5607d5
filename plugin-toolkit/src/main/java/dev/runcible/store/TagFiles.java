package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import dev.runcible.store.StoreReader.TagSource;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A store's tag files as last read: compared with the files (size, modification time, file key) at most every
 * {@code refreshMillis}, and read again whole when one changed. A later file's names win.
 */
final class TagFiles {
    private static final System.Logger LOG = System.getLogger(TagFiles.class.getName());
    /** A tag file of 100,000 lines is a few MB; this bounds a damaged one. */
    private static final int MAX_TAG_FILE_BYTES = 256 << 20;

    private final StoreFileSystem store;
    private final List<TagSource> sources;
    private final long refreshNanos;
    private volatile Snapshot snapshot;

    TagFiles(StoreFileSystem store, List<TagSource> sources, long refreshMillis) {
        this.store = store;
        this.sources = sources;
        this.refreshNanos = refreshMillis * 1_000_000;
    }

    /** The parsed tag files, the attributes they were read with, and when those were last compared. */
    record Snapshot(List<Optional<StoreFileSystem.FileStatus>> statuses, List<TagFile> files,
            long checkedAt) {
        Digest manifestOf(String name) {
            for (int i = files.size() - 1; i >= 0; i--) {
                Digest digest = files.get(i).manifestOf(name);
                if (digest != null) {
                    return digest;
                }
            }
            return null;
        }

        /** Each name to the manifest it resolves to, a later file winning. */
        Map<String, Digest> byName() {
            if (files.size() == 1) {
                return files.get(0).byName();
            }
            Map<String, Digest> merged = new java.util.LinkedHashMap<>();
            files.forEach(file -> merged.putAll(file.byName()));
            return Map.copyOf(merged);
        }

        /** The malformed lines skipped, in every file. */
        List<String> problems() {
            List<String> all = new ArrayList<>();
            files.forEach(file -> all.addAll(file.problems()));
            return all;
        }

        /** Every valid line of every file, in order. */
        List<TagRecord> records() {
            if (files.size() == 1) {
                return files.get(0).records();
            }
            List<TagRecord> records = new ArrayList<>();
            files.forEach(file -> records.addAll(file.records()));
            return List.copyOf(records);
        }

        int nameCount() {
            return files.size() == 1 ? files.get(0).nameCount() : byName().size();
        }
    }

    /** The tag files, looked at again once the refresh interval has passed. */
    Snapshot current() throws RuncibleException {
        Snapshot recent = snapshot;
        if (recent != null && refreshNanos > 0 && System.nanoTime() - recent.checkedAt() < refreshNanos) {
            return recent;
        }
        List<Optional<StoreFileSystem.FileStatus>> statuses = statuses();
        Snapshot current = snapshot;
        if (current != null && current.statuses().equals(statuses)) {
            Snapshot same = new Snapshot(current.statuses(), current.files(), System.nanoTime());
            snapshot = same;
            return same;
        }
        if (statuses.stream().allMatch(Optional::isEmpty)) {
            try {
                if (!store.rootExists()) {
                    throw new ImageNotFoundException("Image store " + store.location() + " does not exist; check "
                            + store.rootSetting() + " or create it with 'runcible import ... --to "
                            + store.location() + "'");
                }
            } catch (IOException e) {
                throw store.failure(e, "read " + store.location());
            }
        }
        return reload(statuses);
    }

    private List<Optional<StoreFileSystem.FileStatus>> statuses() throws RuncibleException {
        if (sources.size() == 1) {
            return List.of(status(sources.get(0)));
        }
        List<Optional<StoreFileSystem.FileStatus>> statuses = new ArrayList<>(sources.size());
        for (TagSource source : sources) {
            statuses.add(status(source));
        }
        return statuses;
    }

    private static Optional<StoreFileSystem.FileStatus> status(TagSource source) throws RuncibleException {
        try {
            return source.fileSystem().stat(source.path());
        } catch (IOException e) {
            throw source.fileSystem().failure(e, "read " + source.describe());
        }
    }

    /** Reads every tag file; the attributes were read before the content, so a change in between is seen next time. */
    private synchronized Snapshot reload(List<Optional<StoreFileSystem.FileStatus>> statuses)
            throws RuncibleException {
        List<TagFile> files = new ArrayList<>(sources.size());
        for (TagSource source : sources) {
            String text;
            try {
                byte[] bytes = source.fileSystem().read(source.path(), MAX_TAG_FILE_BYTES);
                if (bytes.length > MAX_TAG_FILE_BYTES) {
                    throw new InvalidImageException("Tag file " + source.describe() + " is larger than "
                            + (MAX_TAG_FILE_BYTES >> 20) + " MiB; it is damaged, restore it from a backup");
                }
                text = new String(bytes, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                text = ""; // none yet, or replaced between the look and the read: the next look sees the new one
            } catch (IOException e) {
                throw source.fileSystem().failure(e, "read " + source.describe());
            }
            TagFile file = TagFile.parse(text, source.describe());
            for (String problem : file.problems()) {
                LOG.log(Level.WARNING, "Skipping bad line: " + problem);
            }
            files.add(file);
        }
        Snapshot fresh = new Snapshot(statuses, List.copyOf(files), System.nanoTime());
        snapshot = fresh;
        return fresh;
    }
}
