package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes a store in the Storm/YARN layout, on any {@link StoreFileSystem}. Content-addressed files are published
 * read-only and never replaced: a name that exists already holds its content, whoever wrote it. The tag file is
 * read, edited and replaced whole under the store's tag lock, so concurrent imports lose no line.
 */
public final class StoreWriter implements ImageStore {
    private final StoreFileSystem store;
    private final int chunkSize;

    public StoreWriter(StoreFileSystem store) {
        this(store, ChunkList.DEFAULT_CHUNK_SIZE);
    }

    /** {@code chunkSize}: the granularity of the chunk lists written beside new layers ({@link ChunkList}). */
    public StoreWriter(StoreFileSystem store, int chunkSize) {
        this.store = store;
        this.chunkSize = chunkSize;
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
     * Publishes a layer and, when this call wrote it, the record of its squashfs digest and its chunk list. A layer
     * file that was there already (written by Storm's or YARN's tools, whose squashfs bytes differ from this
     * conversion's) keeps whatever records it has: a record of these bytes would condemn that file on every node
     * that checks it.
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
            String record = StoreLayout.digestRecord(squashfsDigest, StoreLayout.fileName(target));
            publish(StoreLayout.layerDigest(layer), record.getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = Files.newInputStream(squashfs)) {
                publishChunks(layer, ChunkList.compute(in, Files.size(squashfs), chunkSize));
            } catch (IOException e) {
                throw new ResourceUnavailableException("Cannot read " + squashfs + " for its chunk list: "
                        + e.getMessage(), e);
            }
        }
    }

    /** The chunk list first, then its record: a reader that finds the record finds the list whole. */
    private void publishChunks(Digest layer, ChunkList chunks) throws RuncibleException {
        byte[] list = chunks.format();
        String name = StoreLayout.layerChunks(layer);
        publish(name, list);
        publish(StoreLayout.layerChunksDigest(layer),
                ChunkList.record(list, StoreLayout.fileName(name)).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Writes a chunk list (and, where it is missing, the squashfs digest record) for every layer that has none,
     * reading each such layer once; touches no other file. A layer whose bytes differ from its digest record is
     * reported, not indexed.
     */
    @Override
    public Indexed index(int chunkSize) throws RuncibleException {
        int indexed = 0;
        int present = 0;
        List<String> problems = new ArrayList<>();
        try {
            for (StoreFileSystem.FileStatus file : store.list("layers")) {
                String name = file.name();
                if (!name.endsWith(".sqsh") || !Digest.isHex(name.substring(0, name.length() - 5))) {
                    continue;
                }
                Digest layer = new Digest(Digest.SHA256, name.substring(0, 64));
                if (store.stat(StoreLayout.layerChunksDigest(layer)).isPresent()) {
                    present++;
                    continue;
                }
                Optional<Digest> recorded = StoreReader.recordedSquashfsDigest(store, layer);
                ChunkList chunks;
                try (InputStream in = store.open(StoreLayout.layer(layer))) {
                    chunks = ChunkList.compute(in, file.size(), chunkSize);
                }
                if (recorded.isPresent() && !recorded.get().equals(chunks.fileDigest())) {
                    problems.add(store.describe(StoreLayout.layer(layer)) + " hashes to " + chunks.fileDigest()
                            + ", not to " + recorded.get() + " as its record says: re-import the image");
                    continue;
                }
                if (recorded.isEmpty()) {
                    publish(StoreLayout.layerDigest(layer), StoreLayout.digestRecord(chunks.fileDigest(), name)
                            .getBytes(StandardCharsets.US_ASCII));
                }
                publishChunks(layer, chunks);
                indexed++;
            }
        } catch (IOException e) {
            throw store.failure(e, "index the layers of " + store.location());
        }
        return new Indexed(indexed, present, problems);
    }

    @Override
    public boolean putPrefetch(Digest layer, byte[] list) throws RuncibleException {
        String path = StoreLayout.layerPrefetch(layer);
        try {
            if (store.stat(StoreLayout.layer(layer)).isEmpty()) {
                return false;
            }
            store.replace(path, list);
            return true;
        } catch (IOException e) {
            throw store.failure(e, "write " + store.describe(path));
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
