package dev.runcible.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.OciResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreReaderTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);
    private static final String C = "c".repeat(64);

    @TempDir
    Path root;

    private static StoreReader reader(Path root, long refreshMillis) {
        return new StoreReader(new LocalStoreFileSystem(root, "local.root"), refreshMillis);
    }

    private void write(String relative, String content) throws Exception {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    @Test
    void resolvesAStormNameThroughDockerNormalization() throws Exception {
        write("image-tag-to-hash", "library/busybox:latest:" + A + "\n");
        write("manifests/" + A, "{}");
        StoreReader store = reader(root, 0);
        ManifestBlob blob = store.resolve(ImageReference.parse("busybox"));
        assertThat(blob.digest().hex()).isEqualTo(A);
        assertThat(new String(blob.bytes(), StandardCharsets.UTF_8)).isEqualTo("{}");
        assertThat(blob.source()).isEqualTo(root.resolve("manifests/" + A).toString());
    }

    @Test
    void resolvesByDigestWithoutTheTagFile() throws Exception {
        write("manifests/" + B, "{\"b\":1}");
        ManifestBlob blob = reader(root, 0).resolve(ImageReference.parse("app@sha256:" + B));
        assertThat(blob.digest().hex()).isEqualTo(B);
    }

    @Test
    void seesAChangedTagFile() throws Exception {
        write("image-tag-to-hash", "app:1:" + A + "\n");
        write("manifests/" + A, "{\"v\":1}");
        write("manifests/" + B, "{\"v\":2}");
        StoreReader store = reader(root, 0);
        assertThat(store.resolve(ImageReference.parse("app:1")).digest().hex()).isEqualTo(A);
        write("image-tag-to-hash", "app:1:" + B + "\n");
        // Same size and possibly the same mtime second: move the mtime so the change is visible either way.
        Files.setLastModifiedTime(root.resolve("image-tag-to-hash"), FileTime.fromMillis(System.currentTimeMillis()
                + 5_000));
        assertThat(store.resolve(ImageReference.parse("app:1")).digest().hex()).isEqualTo(B);
    }

    @Test
    void withARefreshIntervalAChangeIsSeenOnceItHasPassed() throws Exception {
        write("image-tag-to-hash", "app:1:" + A + "\n");
        write("manifests/" + A, "{\"v\":1}");
        write("manifests/" + B, "{\"v\":2}");
        StoreReader store = reader(root, 300);
        assertThat(store.resolve(ImageReference.parse("app:1")).digest().hex()).isEqualTo(A);
        write("image-tag-to-hash", "app:1:" + B + "\n");
        Files.setLastModifiedTime(root.resolve("image-tag-to-hash"), FileTime.fromMillis(System.currentTimeMillis()
                + 5_000));
        assertThat(store.resolve(ImageReference.parse("app:1")).digest().hex()).as("within the interval")
                .isEqualTo(A);
        Thread.sleep(400);
        assertThat(store.resolve(ImageReference.parse("app:1")).digest().hex()).isEqualTo(B);
    }

    @Test
    void onlyManifestsThatMatchTheirNameAreKept() throws Exception {
        byte[] good = "{\"good\":true}".getBytes(StandardCharsets.UTF_8);
        String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(good));
        write("manifests/" + hex, "damaged");
        StoreReader store = reader(root, 0);
        ImageReference reference = ImageReference.parse("app@sha256:" + hex);
        assertThat(new String(store.resolve(reference).bytes(), StandardCharsets.UTF_8)).isEqualTo("damaged");
        Files.write(root.resolve("manifests/" + hex), good);
        assertThat(store.resolve(reference).bytes()).as("the damaged bytes were not kept").isEqualTo(good);
        Files.delete(root.resolve("manifests/" + hex));
        assertThat(store.resolve(reference).bytes()).as("the right bytes are kept").isEqualTo(good);
    }

    @Test
    void unknownTagNamesTheImageAndTheStore() throws Exception {
        write("image-tag-to-hash", "app:1:" + A + "\n");
        assertThatThrownBy(() -> reader(root, 0).resolve(ImageReference.parse("app:2")))
                .isInstanceOf(ImageNotFoundException.class)
                .hasMessageContaining("'app:2'").hasMessageContaining(root.toString());
    }

    @Test
    void missingManifestFileIsReported() throws Exception {
        write("image-tag-to-hash", "app:1:" + A + "\n");
        assertThatThrownBy(() -> reader(root, 0).resolve(ImageReference.parse("app:1")))
                .isInstanceOf(ImageNotFoundException.class)
                .hasMessageContaining("manifests/" + A).hasMessageContaining("re-import");
    }

    @Test
    void missingStoreSaysHowToCreateIt() {
        assertThatThrownBy(() -> reader(root.resolve("nope"), 0).resolve(ImageReference.parse("app")))
                .isInstanceOf(ImageNotFoundException.class)
                .hasMessageContaining("does not exist").hasMessageContaining("local.root");
    }

    @Test
    void mapsManifestToStormLayoutFilesWithRecordedSquashfsDigest() throws Exception {
        write("layers/" + B + ".sqsh.sha256", C + "  " + B + ".sqsh\n");
        ImageManifest manifest = new ImageManifest(new Digest("sha256", A), MediaTypes.OCI_MANIFEST,
                new Descriptor(MediaTypes.OCI_CONFIG, new Digest("sha256", A), 123),
                List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, new Digest("sha256", B), 456),
                        new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, new Digest("sha256", C), 789)));
        ImageResources resources = reader(root, 0).resources(ImageReference.parse("app"), manifest);
        assertThat(resources.config().location()).isEqualTo(root.resolve("config/" + A).toUri());
        assertThat(resources.config().contentDigest()).contains(new Digest("sha256", A));
        assertThat(resources.config().contentSize().getAsLong()).isEqualTo(123);
        assertThat(resources.layers()).extracting(OciResource::location).containsExactly(
                root.resolve("layers/" + B + ".sqsh").toUri(), root.resolve("layers/" + C + ".sqsh").toUri());
        assertThat(resources.layers().get(0).contentDigest()).contains(new Digest("sha256", C));
        assertThat(resources.layers().get(1).contentDigest()).isEmpty();
        assertThat(resources.layers()).allMatch(r -> r.format() == OciResource.Format.SQUASHFS);
    }

    @Test
    void rejectsAGarbledSquashfsDigestRecord() throws Exception {
        write("layers/" + B + ".sqsh.sha256", "not-a-digest\n");
        ImageManifest manifest = new ImageManifest(new Digest("sha256", A), MediaTypes.OCI_MANIFEST,
                new Descriptor(MediaTypes.OCI_CONFIG, new Digest("sha256", A), 1),
                List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR, new Digest("sha256", B), 1)));
        assertThatThrownBy(() -> reader(root, 0).resources(ImageReference.parse("app"), manifest))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining(B + ".sqsh.sha256");
    }

    @Test
    void aLaterTagFileWinsAndBothAreListed(@TempDir Path node) throws Exception {
        write("image-tag-to-hash", "app:1,app:2:" + A + "\n");
        write("manifests/" + A, "{\"v\":1}");
        write("manifests/" + B, "{\"v\":2}");
        Files.writeString(node.resolve("override"), "app:2:" + B + "\n");
        LocalStoreFileSystem store = new LocalStoreFileSystem(root, "local.root");
        StoreReader reader = new StoreReader(store, List.of(new StoreReader.TagSource(store, "image-tag-to-hash"),
                new StoreReader.TagSource(new LocalStoreFileSystem(node, "override"), "override")), 0);
        assertThat(reader.resolve(ImageReference.parse("app:1")).digest().hex()).isEqualTo(A);
        assertThat(reader.resolve(ImageReference.parse("app:2")).digest().hex()).isEqualTo(B);
        assertThat(reader.list()).hasSize(2);
        assertThat(reader.localState()).containsExactly(root, node.resolve("override"));
        Files.delete(node.resolve("override"));
        assertThat(reader.resolve(ImageReference.parse("app:2")).digest().hex()).as("override gone").isEqualTo(A);
    }

    @Test
    void aFifoInPlaceOfTheTagFileIsRefused() throws Exception {
        Files.createDirectories(root);
        new ProcessBuilder("mkfifo", root.resolve("image-tag-to-hash").toString()).start().waitFor();
        assertThatThrownBy(() -> reader(root, 0).resolve(ImageReference.parse("app:1")))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("not a regular file");
    }
}
