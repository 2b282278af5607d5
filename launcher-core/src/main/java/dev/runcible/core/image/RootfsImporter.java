package dev.runcible.core.image;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.host.Executables;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Builds a one-layer image from a directory. GNU tar writes the layer (numeric owners, xattrs, sorted names);
 * the stream is hashed on its way into tar2sqfs, so the tar (whose digest names the layer, as in any OCI image) is
 * never stored, and the squashfs file is all that reaches the store.
 */
public final class RootfsImporter {
    /** zstd at a low level: ten times faster to write than the default and about as small (measured here). */
    static final List<String> TAR2SQFS_OPTIONS = List.of("--quiet", "--force", "--no-skip", "--compressor", "zstd",
            "--comp-extra", "level=3");

    public record Imported(Digest manifest, Digest layer, Digest squashfs, long squashfsSize) {
    }

    public Imported importDirectory(Path rootfs, List<String> names, ImageChanges changes, ImageStore store)
            throws RuncibleException {
        if (!Files.isDirectory(rootfs)) {
            throw new InvalidRequestException("Cannot import dir:" + rootfs + ": it is not a directory");
        }
        Path tar = tool("tar", "GNU tar (apt-get install tar)");
        Path tar2sqfs = tool("tar2sqfs", "tar2sqfs (apt-get install squashfs-tools-ng)");
        Path squashfs = null;
        try {
            squashfs = Files.createTempFile("runcible-import-", ".sqsh");
            Layer layer = convert(tar, tar2sqfs, rootfs, squashfs);
            Digest squashfsDigest = Sha256.of(squashfs);
            byte[] config = Json.MAPPER.writeValueAsBytes(config(rootfs, changes, layer.digest()));
            Digest configDigest = Sha256.of(config);
            byte[] manifest = OciManifests.manifest(new Descriptor(MediaTypes.OCI_CONFIG, configDigest, config.length),
                    List.of(new Descriptor(MediaTypes.OCI_LAYER_TAR, layer.digest(), layer.size())));
            Digest manifestDigest = Sha256.of(manifest);
            store.putLayer(layer.digest(), squashfs, squashfsDigest);
            store.putConfig(configDigest, config);
            store.putManifest(manifestDigest, manifest);
            store.tag(names, manifestDigest);
            return new Imported(manifestDigest, layer.digest(), squashfsDigest, Files.size(squashfs));
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

    private static Path tool(String name, String install) throws ContainerRuntimeException {
        return Executables.find(name).orElseThrow(() -> new ContainerRuntimeException(
                "'" + name + "' is needed to import a directory; install " + install));
    }

    private record Layer(Digest digest, long size) {
    }

    private static Layer convert(Path tar, Path tar2sqfs, Path rootfs, Path squashfs)
            throws IOException, RuncibleException {
        List<String> tarCommand = List.of(tar.toString(), "--create", "--file=-", "--directory=" + rootfs,
                "--numeric-owner", "--xattrs", "--xattrs-include=*", "--sort=name", "--format=posix",
                "--pax-option=delete=atime,delete=ctime", ".");
        List<String> sqfsCommand = new ArrayList<>(List.of(tar2sqfs.toString()));
        sqfsCommand.addAll(TAR2SQFS_OPTIONS);
        sqfsCommand.add("--num-jobs");
        sqfsCommand.add(Integer.toString(Runtime.getRuntime().availableProcessors()));
        sqfsCommand.add(squashfs.toString());
        Process producer = new ProcessBuilder(tarCommand)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Process consumer = new ProcessBuilder(sqfsCommand).redirectErrorStream(true).start();
        CompletableFuture<String> producerErrors = drain(producer.getErrorStream());
        CompletableFuture<String> consumerOutput = drain(consumer.getInputStream());
        MessageDigest sha256 = Sha256.newDigest();
        long size = 0;
        try (InputStream in = producer.getInputStream(); OutputStream out = consumer.getOutputStream()) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                sha256.update(buffer, 0, n);
                out.write(buffer, 0, n);
                size += n;
            }
        } catch (IOException e) {
            producer.destroyForcibly();
            consumer.destroyForcibly();
            throw new ContainerRuntimeException("Converting " + rootfs + " failed: " + e.getMessage()
                    + " (tar2sqfs said: " + consumerOutput.join().strip() + ")", e);
        }
        try {
            int tarExit = producer.waitFor();
            int sqfsExit = consumer.waitFor();
            // GNU tar exits 1 when a file changed while it was read: the layer would not match the directory.
            if (tarExit != 0) {
                throw new ContainerRuntimeException("tar failed on " + rootfs + " (exit " + tarExit + "): "
                        + producerErrors.join().strip());
            }
            if (sqfsExit != 0) {
                throw new ContainerRuntimeException("tar2sqfs failed (exit " + sqfsExit + "): "
                        + consumerOutput.join().strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            producer.destroyForcibly();
            consumer.destroyForcibly();
            throw new ContainerRuntimeException("Interrupted while converting " + rootfs);
        }
        return new Layer(Sha256.toDigest(sha256.digest()), size);
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                return out.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.getMessage();
            }
        });
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
