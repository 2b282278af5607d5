package dev.runcible.hdfs;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.OciResource;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagFile;
import dev.runcible.api.TagRecord;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads images from a Storm/YARN-layout store in HDFS. The tag file, and an optional node-local tag file whose
 * names win (as Storm's local override does), are checked for changes at most every
 * {@code hdfs.tag-file.refresh-seconds} and swapped in whole; manifests are cached by digest, as they cannot change.
 */
final class HdfsImageStore implements ImageTagToManifest, ManifestToResources {
    private static final System.Logger LOG = System.getLogger(HdfsImageStore.class.getName());
    private static final int MAX_CACHED_MANIFESTS = 1024;

    private final HdfsConnection connection;
    private final Map<Digest, byte[]> manifests = new ConcurrentHashMap<>();
    private volatile Tags tags;

    /** The merged names, the modification times they were read at, and when that was last checked. */
    private record Tags(long hdfsModified, long localModified, long checkedAt, Map<String, Digest> byName,
            List<TagRecord> records, List<String> problems) {
    }

    HdfsImageStore(HdfsConnection connection) {
        this.connection = connection;
    }

    private HdfsLayout layout() throws RuncibleException {
        return new HdfsLayout(connection.root());
    }

    @Override
    public List<java.nio.file.Path> localState() {
        return connection.settings().localTagFile().map(List::of).orElse(List.of());
    }

    @Override
    public ManifestBlob resolve(ImageReference reference) throws RuncibleException {
        if (reference.digest().isPresent()) {
            return read(reference.digest().get(), reference.toString());
        }
        Tags current = tags();
        for (String name : reference.storeNames()) {
            Digest digest = current.byName().get(name);
            if (digest != null) {
                return read(digest, name);
            }
        }
        String skipped = current.problems().isEmpty() ? ""
                : "; " + current.problems().size() + " malformed line(s) were skipped, first: " + current.problems().get(0);
        throw new ImageNotFoundException("No image '" + reference.familiarName() + "' in the HDFS store at "
                + connection.root() + " (" + current.byName().size() + " names" + skipped + "). Import it with "
                + "'runcible import ... --to " + connection.root() + "'");
    }

    @Override
    public ManifestBlob fetch(ImageReference reference, Digest digest) throws RuncibleException {
        return read(digest, reference + "@" + digest);
    }

    @Override
    public List<TagRecord> list() throws RuncibleException {
        return tags().records();
    }

    @Override
    public ImageResources resources(ImageReference reference, ImageManifest manifest) throws RuncibleException {
        HdfsLayout layout = layout();
        Digest config = manifest.config().digest();
        OciResource configResource = new OciResource(config, manifest.config().mediaType(), OciResource.Kind.CONFIG,
                OciResource.Format.JSON, layout.config(config).toUri(), Optional.of(config),
                OptionalLong.of(manifest.config().size()));
        List<OciResource> layers = new ArrayList<>();
        for (var layer : manifest.layers()) {
            layers.add(new OciResource(layer.digest(), layer.mediaType(), OciResource.Kind.LAYER,
                    OciResource.Format.SQUASHFS, layout.layer(layer.digest()).toUri(),
                    recordedSquashfsDigest(layout, layer.digest()), OptionalLong.empty()));
        }
        return new ImageResources(configResource, layers);
    }

    private Optional<Digest> recordedSquashfsDigest(HdfsLayout layout, Digest layer) throws RuncibleException {
        Path record = layout.layerDigest(layer);
        try (InputStream in = connection.fileSystem().open(record)) {
            String hex = new String(in.readNBytes(200), StandardCharsets.US_ASCII).strip().split("\\s+", 2)[0];
            if (!Digest.isHex(hex)) {
                throw new InvalidImageException("Squashfs digest record " + record + " does not start with 64 hex "
                        + "digits; write it again with sha256sum");
            }
            return Optional.of(new Digest(Digest.SHA256, hex));
        } catch (FileNotFoundException e) {
            return Optional.empty(); // stores written by Storm's or YARN's tools record none
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "read " + record);
        }
    }

    private ManifestBlob read(Digest digest, String name) throws RuncibleException {
        Path file = layout().manifest(digest);
        byte[] cached = manifests.get(digest);
        if (cached != null) {
            return new ManifestBlob(digest, cached, file.toString());
        }
        byte[] bytes;
        try (InputStream in = connection.fileSystem().open(file)) {
            bytes = in.readNBytes(ManifestBlob.MAX_BYTES + 1);
        } catch (FileNotFoundException e) {
            throw new ImageNotFoundException("Image '" + name + "' points at manifest " + digest.hex() + " but "
                    + file + " does not exist; re-import the image");
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "read manifest " + file);
        }
        if (bytes.length > ManifestBlob.MAX_BYTES) {
            throw new InvalidImageException("Manifest " + file + " is larger than " + ManifestBlob.MAX_BYTES + " bytes");
        }
        if (manifests.size() >= MAX_CACHED_MANIFESTS) {
            manifests.clear();
        }
        // Cached only once the core has checked the digest would be stricter; the core checks it on every use.
        manifests.put(digest, bytes);
        return new ManifestBlob(digest, bytes, file.toString());
    }

    private Tags tags() throws RuncibleException {
        Tags current = tags;
        long now = System.currentTimeMillis();
        if (current != null && now - current.checkedAt() < connection.settings().refreshSeconds() * 1000L) {
            return current;
        }
        return refresh(current, now);
    }

    private synchronized Tags refresh(Tags previous, long now) throws RuncibleException {
        HdfsLayout layout = layout();
        FileSystem fs = connection.fileSystem();
        long hdfsModified;
        try {
            FileStatus status = fs.getFileStatus(layout.tagFile());
            hdfsModified = status.getModificationTime();
        } catch (FileNotFoundException e) {
            hdfsModified = -1;
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "read " + layout.tagFile());
        }
        Optional<java.nio.file.Path> local = connection.settings().localTagFile();
        long localModified = -1;
        if (local.isPresent()) {
            try {
                localModified = Files.getLastModifiedTime(local.get()).toMillis();
            } catch (NoSuchFileException e) {
                localModified = -1;
            } catch (IOException e) {
                throw HdfsConnection.translate(e, "read the local tag file " + local.get());
            }
        }
        if (previous != null && previous.hdfsModified() == hdfsModified && previous.localModified() == localModified) {
            Tags same = new Tags(hdfsModified, localModified, now, previous.byName(), previous.records(),
                    previous.problems());
            tags = same;
            return same;
        }
        if (hdfsModified < 0 && localModified < 0) {
            try {
                if (!fs.exists(layout.rootPath())) {
                    throw new ImageNotFoundException("The HDFS store " + connection.root() + " does not exist; "
                            + "check hdfs.root or create it with 'runcible import ... --to " + connection.root() + "'");
                }
            } catch (IOException e) {
                throw HdfsConnection.translate(e, "read " + connection.root());
            }
        }
        Map<String, Digest> byName = new LinkedHashMap<>();
        List<TagRecord> records = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (hdfsModified >= 0) {
            try (InputStream in = fs.open(layout.tagFile())) {
                merge(TagFile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), layout.tagFile().toString()),
                        byName, records, problems);
            } catch (FileNotFoundException e) {
                // replaced between the check and the read; the next refresh sees the new one
            } catch (IOException e) {
                throw HdfsConnection.translate(e, "read " + layout.tagFile());
            }
        }
        if (localModified >= 0) {
            try {
                // The node-local file is read last, so its names win.
                merge(TagFile.parse(Files.readString(local.get(), StandardCharsets.UTF_8), local.get().toString()),
                        byName, records, problems);
            } catch (IOException e) {
                throw HdfsConnection.translate(e, "read the local tag file " + local.get());
            }
        }
        for (String problem : problems) {
            LOG.log(Level.WARNING, "Skipping bad line: " + problem);
        }
        Tags fresh = new Tags(hdfsModified, localModified, now, Map.copyOf(byName), List.copyOf(records),
                List.copyOf(problems));
        tags = fresh;
        return fresh;
    }

    private static void merge(TagFile file, Map<String, Digest> byName, List<TagRecord> records,
            List<String> problems) {
        byName.putAll(file.byName());
        records.addAll(file.records());
        problems.addAll(file.problems());
    }
}
