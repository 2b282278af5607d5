package dev.runcible.core.it.registry;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.Digest;
import dev.runcible.api.MediaTypes;
import dev.runcible.core.image.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;

/** Builds OCI or Docker images in memory, layer by layer, for pushing to a test registry. */
final class TestImage {
    enum Compression { NONE, GZIP, ZSTD }

    record Blob(String mediaType, byte[] bytes, Digest digest) {
        static Blob of(String mediaType, byte[] bytes) {
            return new Blob(mediaType, bytes, Digest.of(bytes));
        }
    }

    /** One layer's entries, written as a tar. */
    static final class Layer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);

        Layer() {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        Layer dir(String name) throws IOException {
            TarArchiveEntry entry = new TarArchiveEntry(name + "/");
            entry.setMode(040755);
            tar.putArchiveEntry(entry);
            tar.closeArchiveEntry();
            return this;
        }

        Layer file(String name, byte[] content, int mode) throws IOException {
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setSize(content.length);
            entry.setMode(0100000 | mode);
            tar.putArchiveEntry(entry);
            tar.write(content);
            tar.closeArchiveEntry();
            return this;
        }

        Layer file(String name, String content) throws IOException {
            return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
        }

        Layer symlink(String name, String target) throws IOException {
            TarArchiveEntry entry = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            entry.setLinkName(target);
            tar.putArchiveEntry(entry);
            tar.closeArchiveEntry();
            return this;
        }

        /** busybox with the applets the tests use, and an /etc/passwd. */
        Layer busybox() throws IOException {
            dir("bin").file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
            for (String applet : List.of("sh", "ls", "cat", "echo", "test", "id", "true")) {
                symlink("bin/" + applet, "busybox");
            }
            return dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        }

        byte[] tar() throws IOException {
            tar.finish();
            return bytes.toByteArray();
        }
    }

    private final boolean docker;
    private final List<Blob> layers = new ArrayList<>();
    private final List<Digest> diffIds = new ArrayList<>();
    private List<String> cmd = List.of("sh");

    private TestImage(boolean docker) {
        this.docker = docker;
    }

    static TestImage oci() {
        return new TestImage(false);
    }

    static TestImage docker() {
        return new TestImage(true);
    }

    TestImage cmd(String... command) {
        this.cmd = List.of(command);
        return this;
    }

    TestImage layer(Layer layer, Compression compression) throws IOException {
        byte[] tar = layer.tar();
        diffIds.add(Digest.of(tar));
        byte[] bytes;
        String type;
        switch (compression) {
            case NONE -> {
                bytes = tar;
                type = MediaTypes.OCI_LAYER_TAR;
            }
            case GZIP -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (OutputStream gz = new GZIPOutputStream(out)) {
                    gz.write(tar);
                }
                bytes = out.toByteArray();
                type = docker ? MediaTypes.DOCKER_LAYER_TAR_GZIP : MediaTypes.OCI_LAYER_TAR_GZIP;
            }
            default -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (OutputStream zstd = new ZstdCompressorOutputStream(out)) {
                    zstd.write(tar);
                }
                bytes = out.toByteArray();
                type = MediaTypes.OCI_LAYER_TAR_ZSTD;
            }
        }
        layers.add(Blob.of(type, bytes));
        return this;
    }

    /** A layer blob another image has already (the same digest in two images). */
    TestImage layer(Blob blob) {
        layers.add(blob);
        return this;
    }

    List<Blob> layers() {
        return layers;
    }

    Blob config(String architecture) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("architecture", architecture);
        root.put("os", "linux");
        ObjectNode config = root.putObject("config");
        config.putArray("Env").add("PATH=/bin");
        ArrayNode cmdNode = config.putArray("Cmd");
        cmd.forEach(cmdNode::add);
        ObjectNode rootfs = root.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode ids = rootfs.putArray("diff_ids");
        diffIds.forEach(d -> ids.add(d.toString()));
        return Blob.of(docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG,
                Json.MAPPER.writeValueAsBytes(root));
    }

    Blob manifest(Blob config) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST);
        root.set("config", descriptor(config));
        ArrayNode array = root.putArray("layers");
        layers.forEach(l -> array.add(descriptor(l)));
        return Blob.of(docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST,
                Json.MAPPER.writeValueAsBytes(root));
    }

    static ObjectNode descriptor(Blob blob) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("mediaType", blob.mediaType());
        node.put("digest", blob.digest().toString());
        node.put("size", blob.bytes().length);
        return node;
    }

    /** An OCI index of per-platform manifests: each entry is {manifest, architecture}. */
    static Blob index(List<Blob> manifests, List<String> architectures) throws IOException {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", MediaTypes.OCI_INDEX);
        ArrayNode array = root.putArray("manifests");
        for (int i = 0; i < manifests.size(); i++) {
            ObjectNode entry = descriptor(manifests.get(i));
            ObjectNode platform = entry.putObject("platform");
            platform.put("architecture", architectures.get(i));
            platform.put("os", "linux");
            if (architectures.get(i).equals("arm64")) {
                platform.put("variant", "v8");
            }
            array.add(entry);
        }
        return Blob.of(MediaTypes.OCI_INDEX, Json.MAPPER.writeValueAsBytes(root));
    }
}
