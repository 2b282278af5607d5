package dev.runcible.core.image;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.ConvertedLayer;
import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.host.Executables;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Builds a one-layer image from a directory. GNU tar writes the layer (numeric owners, xattrs, sorted names), and
 * the localizer converts that stream as it converts a registry's layers: hashed on its way into tar2sqfs, so the tar
 * (whose digest names the layer, as in any OCI image) is never stored, and the squashfs file is all that reaches
 * the store.
 */
public final class RootfsImporter {
    private final ResourcesLocalizer localizer;

    public RootfsImporter(ResourcesLocalizer localizer) {
        this.localizer = localizer;
    }

    public record Imported(Digest manifest, Digest layer, Digest squashfs, long squashfsSize) {
    }

    public Imported importDirectory(Path rootfs, List<String> names, ImageChanges changes, ImageStore store)
            throws RuncibleException {
        if (!Files.isDirectory(rootfs)) {
            throw new InvalidRequestException("Cannot import dir:" + rootfs + ": it is not a directory");
        }
        Path tar = Executables.find("tar").orElseThrow(() -> new ContainerRuntimeException(
                "'tar' is needed to import a directory; install GNU tar (apt-get install tar)"));
        Path squashfs = null;
        try {
            squashfs = Files.createTempFile("runcible-import-", ".sqsh");
            ConvertedLayer layer = convert(tar, rootfs, squashfs);
            byte[] config = Json.MAPPER.writeValueAsBytes(config(rootfs, changes, layer.tarDigest()));
            Digest configDigest = Digest.of(config);
            byte[] manifest = OciManifests.manifest(new Descriptor(MediaTypes.OCI_CONFIG, configDigest, config.length),
                    List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR, layer.tarDigest(), layer.tarSize())));
            Digest manifestDigest = Digest.of(manifest);
            store.putLayer(layer.tarDigest(), squashfs, layer.fileDigest());
            store.putConfig(configDigest, config);
            store.putManifest(manifestDigest, manifest);
            store.tag(names, manifestDigest);
            return new Imported(manifestDigest, layer.tarDigest(), layer.fileDigest(), Files.size(squashfs));
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot import " + rootfs + ": " + e.getMessage(), e);
        } finally {
            if (squashfs != null) {
                try {
                    Files.deleteIfExists(squashfs);
                } catch (IOException e) {
                    // temp file; best effort
                }
            }
        }
    }

    /** GNU tar's stream of the directory, converted by the localizer as it is written. */
    private ConvertedLayer convert(Path tar, Path rootfs, Path squashfs) throws IOException, RuncibleException {
        Process producer = new ProcessBuilder(tar.toString(), "--create", "--file=-", "--directory=" + rootfs,
                "--numeric-owner", "--xattrs", "--xattrs-include=*", "--sort=name", "--format=posix",
                "--pax-option=delete=atime,delete=ctime", ".")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        CompletableFuture<String> producerErrors = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = producer.getErrorStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.getMessage();
            }
        });
        ConvertedLayer layer;
        try (InputStream in = producer.getInputStream()) {
            layer = localizer.convert(in, squashfs, "dir:" + rootfs);
        } catch (RuncibleException | IOException | RuntimeException e) {
            producer.destroyForcibly();
            throw e;
        }
        try {
            // GNU tar exits 1 when a file changed while it was read: the layer would not match the directory.
            int tarExit = producer.waitFor();
            if (tarExit != 0) {
                throw new ContainerRuntimeException("tar failed on " + rootfs + " (exit " + tarExit + "): "
                        + producerErrors.join().strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            producer.destroyForcibly();
            throw new ContainerRuntimeException("Interrupted while converting " + rootfs);
        }
        return layer;
    }

    private static ObjectNode config(Path rootfs, ImageChanges changes, Digest layer) {
        String created = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("created", created);
        root.put("architecture", HostPlatform.current().architecture());
        root.put("os", "linux");
        ObjectNode config = root.putObject("config");
        ArrayNode env = config.putArray("Env");
        if (changes.env().stream().noneMatch(e -> e.startsWith("PATH="))) {
            env.add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }
        changes.env().forEach(env::add);
        changes.entrypoint().ifPresent(list -> list.forEach(config.putArray("Entrypoint")::add));
        changes.cmd().ifPresent(list -> list.forEach(config.putArray("Cmd")::add));
        changes.workingDir().ifPresent(dir -> config.put("WorkingDir", dir));
        changes.user().ifPresent(user -> config.put("User", user));
        ObjectNode rootfsNode = root.putObject("rootfs");
        rootfsNode.put("type", "layers");
        rootfsNode.putArray("diff_ids").add(layer.toString());
        ObjectNode history = root.putArray("history").addObject();
        history.put("created", created);
        history.put("created_by", "runcible import dir:" + rootfs);
        return root;
    }
}
