package dev.runcible.local;

import dev.runcible.api.Digest;
import dev.runcible.api.TagFile;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Optional;
import java.util.OptionalLong;

/** Reads images from a directory in the Storm/YARN store layout. */
final class LocalImageStore implements ImageTagToManifest, ManifestToResources {
    private static final System.Logger LOG = System.getLogger(LocalImageStore.class.getName());

    private static final int MAX_CACHED_MANIFESTS = 1024;
    private static final int MAX_RECORD_BYTES = 4096;

    private final StoreLayout layout;
    private final long refreshNanos;
    private final Map<Digest, ManifestBlob> manifests = new ConcurrentHashMap<>();
    /** The tag-file names each looked-up reference goes by, so a warm lookup allocates nothing. */
    private final Map<ImageReference, List<String>> storeNames = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;

    /**
     * The parsed tag file, the file attributes it was read with, and when they were last compared with the file's;
     * replaced whole when the file changes.
     */
    private record Snapshot(Object fileKey, long modified, long size, TagFile tags, long checkedAt) {
    }

    LocalImageStore(Path root) {
        this(root, 0);
    }

    /** {@code refreshMillis}: how long a look at the tag file's attributes stays good (0: every lookup looks). */
    LocalImageStore(Path root, long refreshMillis) {
        this.layout = new StoreLayout(root);
        this.refreshNanos = refreshMillis * 1_000_000;
    }

    @Override
    public List<Path> localState() {
        return List.of(layout.root());
    }

    @Override
    public ManifestBlob resolve(ImageReference reference) throws RuncibleException {
        if (reference.digest().isPresent()) {
            return read(reference.digest().get(), reference.toString());
        }
        TagFile tags = tags();
        List<String> names = storeNames.get(reference);
        if (names == null) {
            if (storeNames.size() >= MAX_CACHED_MANIFESTS) {
                storeNames.clear();
            }
            names = reference.storeNames();
            storeNames.put(reference, names);
        }
        for (String name : names) {
            Digest digest = tags.manifestOf(name);
            if (digest != null) {
                return read(digest, name);
            }
        }
        // The wanted name may sit on a line that was skipped as malformed: say so, with the line.
        String skipped = tags.problems().isEmpty() ? ""
                : "; " + tags.problems().size() + " malformed line(s) were skipped, first: " + tags.problems().get(0);
        throw new ImageNotFoundException("No image '" + reference.familiarName() + "' in the store at "
                + layout.root() + " (" + layout.tagFile().getFileName() + " lists " + tags.nameCount()
                + " names" + skipped + "). Import it with 'runcible import' or check the name with 'runcible images'.");
    }

    @Override
    public ManifestBlob fetch(ImageReference reference, Digest digest) throws RuncibleException {
        return read(digest, reference.toString() + "@" + digest);
    }

    @Override
    public List<TagRecord> list() throws RuncibleException {
        return tags().records();
    }

    @Override
    public ImageResources resources(ImageReference reference, ImageManifest manifest) throws RuncibleException {
        Digest configDigest = manifest.config().digest();
        OciResource config = new OciResource(configDigest, manifest.config().mediaType(), OciResource.Kind.CONFIG,
                OciResource.Format.JSON, layout.config(configDigest).toUri(), Optional.of(configDigest),
                OptionalLong.of(manifest.config().size()));
        List<OciResource> layers = new ArrayList<>();
        for (var layer : manifest.layers()) {
            layers.add(new OciResource(layer.digest(), layer.mediaType(), OciResource.Kind.LAYER,
                    OciResource.Format.SQUASHFS, layout.layer(layer.digest()).toUri(),
                    recordedSquashfsDigest(layer.digest()), OptionalLong.empty()));
        }
        return new ImageResources(config, layers);
    }

    private Optional<Digest> recordedSquashfsDigest(Digest layer) throws InvalidImageException {
        Path record = layout.layerDigest(layer);
        String text;
        try {
            if (StoreFiles.regular(layout.root(), record).size() > MAX_RECORD_BYTES) {
                throw new InvalidImageException("Squashfs digest record " + record + " is larger than "
                        + MAX_RECORD_BYTES + " bytes; rewrite it with 'sha256sum " + layout.layer(layer).getFileName()
                        + "'");
            }
            text = Files.readString(record, StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty(); // Stores written by Storm's or YARN's tools record none.
        } catch (IOException e) {
            throw new InvalidImageException("Cannot read squashfs digest record " + record + ": " + e.getMessage(), e);
        }
        String hex = text.split("\\s+", 2)[0];
        if (!Digest.isHex(hex)) {
            throw new InvalidImageException("Squashfs digest record " + record + " does not start with 64 hex "
                    + "digits; rewrite it with 'sha256sum " + layout.layer(layer).getFileName() + "'");
        }
        return Optional.of(new Digest(Digest.SHA256, hex));
    }

    private ManifestBlob read(Digest digest, String name) throws RuncibleException {
        ManifestBlob cached = manifests.get(digest);
        if (cached != null) {
            return cached;
        }
        Path file = layout.manifest(digest);
        byte[] bytes;
        try {
            long size = StoreFiles.regular(layout.root(), file).size();
            if (size > ManifestBlob.MAX_BYTES) {
                throw new InvalidImageException("Manifest " + file + " is " + size + " bytes, above the cap of "
                        + ManifestBlob.MAX_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageNotFoundException("Image '" + name + "' points at manifest " + digest.hex()
                    + " but " + file + " does not exist; re-import the image");
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read manifest " + file + ": " + e.getMessage(), e);
        }
        // Manifests are content-addressed: bytes that hash to their name can never change, so they are kept.
        if (Digest.of(bytes).equals(digest)) {
            if (manifests.size() >= MAX_CACHED_MANIFESTS) {
                manifests.clear();
            }
            ManifestBlob blob = new ManifestBlob(digest, bytes, file.toString());
            manifests.put(digest, blob);
            return blob;
        }
        return new ManifestBlob(digest, bytes, file.toString());
    }

    TagFile tags() throws RuncibleException {
        Snapshot recent = snapshot;
        if (recent != null && refreshNanos > 0 && System.nanoTime() - recent.checkedAt() < refreshNanos) {
            return recent.tags();
        }
        Path file = layout.tagFile();
        BasicFileAttributes attributes;
        try {
            attributes = StoreFiles.regular(layout.root(), file);
        } catch (NoSuchFileException e) {
            if (!Files.isDirectory(layout.root())) {
                throw new ImageNotFoundException("Image store " + layout.root() + " does not exist; set local.root "
                        + "or create it with 'runcible import dir:ROOTFS --tag NAME:TAG'");
            }
            return TagFile.parse("", file.toString());
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read " + file + ": " + e.getMessage(), e);
        }
        Snapshot current = snapshot;
        long modified = attributes.lastModifiedTime().toMillis();
        if (current != null && Objects.equals(current.fileKey(), attributes.fileKey())
                && current.modified() == modified && current.size() == attributes.size()) {
            snapshot = new Snapshot(current.fileKey(), current.modified(), current.size(), current.tags(),
                    System.nanoTime());
            return current.tags();
        }
        return reload(file);
    }

    private synchronized TagFile reload(Path file) throws RuncibleException {
        try {
            // Read the attributes before the content: a change in between makes the next call read again.
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            TagFile tags = TagFile.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
            for (String problem : tags.problems()) {
                LOG.log(Level.WARNING, "Skipping bad line: " + problem);
            }
            snapshot = new Snapshot(attributes.fileKey(), attributes.lastModifiedTime().toMillis(),
                    attributes.size(), tags, System.nanoTime());
            return tags;
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
