package dev.runcible.storm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A host account as {@code id} reports it (so LDAP and SSSD users count): the uid, primary gid and supplementary
 * groups a worker of that user runs with.
 */
public record HostUser(String name, long uid, long gid, List<Long> groups) {

    public static HostUser lookup(String name) throws IOException {
        if (name == null || name.isBlank() || name.startsWith("-") || name.contains("\n")) {
            throw new IOException("no worker user given (" + name + "); Storm passes the topology's owner");
        }
        long uid = Long.parseLong(id(name, "-u").strip());
        long gid = Long.parseLong(id(name, "-g").strip());
        List<Long> groups = new ArrayList<>();
        for (String group : id(name, "-G").strip().split("\\s+")) {
            long value = Long.parseLong(group);
            if (value != gid) {
                groups.add(value);
            }
        }
        return new HostUser(name, uid, gid, List.copyOf(groups));
    }

    private static String id(String name, String what) throws IOException {
        Process process = new ProcessBuilder("id", what, "--", name).redirectErrorStream(true).start();
        String out;
        try (InputStream in = process.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("id " + what + " " + name + " did not answer within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted looking up user " + name, e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("the worker user " + name + " is not a user of this node (id: " + out.strip()
                    + "); create it or fix the topology's owner");
        }
        return out;
    }
}
