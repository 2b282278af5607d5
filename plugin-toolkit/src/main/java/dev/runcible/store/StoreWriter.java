package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a store in the Storm/YARN layout, on any {@link StoreFileSystem}. Content-addressed files are published
 * read-only and never replaced: a name that exists already holds its content, whoever wrote it. The tag file is
 * read, edited and replaced whole under the store's tag lock, so concurrent imports lose no line.
 */
public final class StoreWriter implements ImageStore {
    private final StoreFileSystem store;

    public StoreWriter(StoreFileSystem store) {
        this.store = store;
    }

    @Override
    public String location() {
        return store.location();
    }

    @Override
    public void putManifest(Digest digest, byte[] bytes) throws RuncibleException {
        publish(StoreLayout.manifest(digest), bytes);
    }

    @Override
    public void putConfig(Digest digest, byte[] bytes) throws RuncibleException {
        publish(StoreLayout.config(digest), bytes);
    }

    /**
     * Publishes a layer and, when this call wrote it, the record of its squashfs digest. A layer file that was
     * there already (written by Storm's or YARN's tools, whose squashfs bytes differ from this conversion's) keeps
     * whatever record it has: a record of these bytes would condemn that file on every node that checks it.
     */
    @Override
    public void putLayer(Digest layer, Path squashfs, Digest squashfsDigest) throws RuncibleException {
        String target = StoreLayout.layer(layer);
        boolean wrote;
        try {
            wrote = store.publish(target, squashfs);
        } catch (IOException e) {
            throw store.failure(e, "write layer " + store.describe(target));
        }
        if (wrote) {
            String record = squashfsDigest.hex() + "  " + StoreLayout.fileName(target) + "\n";
            publish(StoreLayout.layerDigest(layer), record.getBytes(StandardCharsets.US_ASCII));
        }
    }

    private void publish(String path, byte[] bytes) throws RuncibleException {
        try {
            store.publish(path, bytes);
        } catch (IOException e) {
            throw store.failure(e, "write " + store.describe(path));
        }
    }

    @Override
    public void tag(List<String> names, Digest manifest) throws RuncibleException {
        rewriteTags(current -> TagText.retag(current, names, manifest));
    }

    @Override
    public List<TagRecord> tags() throws RuncibleException {
        try {
            return TagFile.parse(readTags(), store.describe(StoreLayout.TAG_FILE)).records();
        } catch (IOException e) {
            throw store.failure(e, "read " + store.describe(StoreLayout.TAG_FILE));
        }
    }

    @Override
    public List<String> untag(List<String> names) throws RuncibleException {
        List<String> removed = new ArrayList<>();
        rewriteTags(current -> {
            TagFile before = TagFile.parse(current, StoreLayout.TAG_FILE);
            names.stream().filter(before.byName()::containsKey).forEach(removed::add);
            return TagText.without(current, names);
        });
        return removed;
    }

    /** Deletes what no tag reaches ({@link StoreCollection}), holding the tag lock so no tag appears meanwhile. */
    @Override
    public Collected collect(Duration grace) throws RuncibleException {
        int[] files = {0};
        long[] bytes = {0};
        rewriteTags(current -> {
            StoreCollection collection = new StoreCollection();
            for (TagRecord record : TagFile.parse(current, StoreLayout.TAG_FILE).records()) {
                String text = null;
                try {
                    text = new String(store.read(StoreLayout.manifest(record.manifest()), ManifestBlob.MAX_BYTES),
                            StandardCharsets.UTF_8);
                } catch (NoSuchFileException e) {
                    // a tag pointing at a missing manifest keeps nothing else
                }
                collection.reference(record.manifest(), text);
            }
            Instant cutoff = Instant.now().minus(grace);
            for (String dir : StoreLayout.DIRECTORIES) {
                for (StoreFileSystem.FileStatus file : store.list(dir)) {
                    if (collection.collectable(file.name(), Instant.ofEpochMilli(file.modifiedMillis()), cutoff)) {
                        store.delete(dir + "/" + file.name());
                        bytes[0] += file.size();
                        files[0]++;
                    }
                }
            }
            return current;
        });
        return new Collected(files[0], bytes[0]);
    }

    private interface TagEdit {
        String apply(String current) throws IOException, RuncibleException;
    }

    private String readTags() throws IOException, RuncibleException {
        try {
            return new String(store.read(StoreLayout.TAG_FILE, Integer.MAX_VALUE), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    /** Reads, edits and atomically replaces the tag file under the store's lock. */
    private void rewriteTags(TagEdit edit) throws RuncibleException {
        try (Closeable lock = store.lockTags()) {
            String current = readTags();
            String next = edit.apply(current);
            if (!next.equals(current) || store.stat(StoreLayout.TAG_FILE).isEmpty()) {
                store.replace(StoreLayout.TAG_FILE, next.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw store.failure(e, "update " + store.describe(StoreLayout.TAG_FILE));
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
