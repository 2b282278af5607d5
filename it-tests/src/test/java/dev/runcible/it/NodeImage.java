package dev.runcible.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one image node containers run: Debian bookworm (debootstrap minbase) with runc, util-linux, GNU tar, the
 * squashfs tools and busybox-static. No image can be pulled here, so it is built locally and named by a hash of
 * this recipe: built once per machine, rebuilt when the recipe changes. The JRE and Runcible itself are bound in
 * from the host at run time, so a code change needs no new image.
 */
public final class NodeImage {
    static final String SUITE = "bookworm";
    static final String MIRROR = "http://deb.debian.org/debian";
    static final List<String> PACKAGES = List.of("runc", "squashfs-tools", "squashfs-tools-ng", "mount",
            "util-linux", "busybox-static", "tar", "procps");
    public static final String NAME = "runcible-node:" + recipeHash();

    private NodeImage() {
    }

    private static String recipeHash() {
        try {
            byte[] recipe = (SUITE + " " + MIRROR + " " + String.join(",", PACKAGES)).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(recipe)).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds the image unless the engine already has it. */
    static synchronized void ensureBuilt() throws IOException, InterruptedException {
        if (run(List.of("docker", "image", "inspect", NAME), null) == 0) {
            return;
        }
        Path build = Path.of(System.getProperty("runcible.node.build.dir", "target/node-image"));
        Path rootfs = build.resolve("rootfs");
        if (Files.exists(rootfs)) {
            run(List.of("rm", "-rf", rootfs.toString()), null);
        }
        Files.createDirectories(build);
        Path log = build.resolve("debootstrap.log");
        int exit = run(List.of("debootstrap", "--variant=minbase", "--include=" + String.join(",", PACKAGES), SUITE,
                rootfs.toString(), MIRROR), log);
        if (exit != 0) {
            throw new IllegalStateException("debootstrap failed (exit " + exit + "); see " + log);
        }
        exit = run(List.of("sh", "-c", "tar -C '" + rootfs + "' -c . | docker import - " + NAME), log);
        if (exit != 0) {
            throw new IllegalStateException("docker import failed (exit " + exit + "); see " + log);
        }
        run(List.of("rm", "-rf", rootfs.toString()), null);
    }

    private static int run(List<String> command, Path log) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD
                : ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process process = builder.start();
        if (!process.waitFor(15, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
