package dev.runcible.storm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A host account as {@code id} reports it (so LDAP and SSSD users count): the uid, primary gid and supplementary
 * groups a worker of that user runs with.
 */
public record HostUser(String name, long uid, long gid, List<Long> groups) {

    private static final Pattern ID = Pattern.compile("uid=(\\d+)(?:\\([^)]*\\))? gid=(\\d+)");
    private static final Pattern GROUP = Pattern.compile("(?<=[=,])(\\d+)");

    /** One {@code id NAME}: its uid, gid and groups. */
    public static HostUser lookup(String name) throws IOException {
        if (name == null || name.isBlank() || name.startsWith("-") || name.contains("\n")) {
            throw new IOException("no worker user given (" + name + "); Storm passes the topology's owner");
        }
        return parse(name, id(name).strip());
    }

    /** Reads {@code id NAME}'s answer, such as {@code uid=1001(ann) gid=100(users) groups=100(users),27(sudo)}. */
    static HostUser parse(String name, String out) throws IOException {
        Matcher ids = ID.matcher(out);
        if (!ids.lookingAt()) {
            throw new IOException("cannot read the ids of user " + name + " from id's answer: " + out);
        }
        long gid = Long.parseLong(ids.group(2));
        List<Long> groups = new ArrayList<>();
        int listed = out.indexOf(" groups=");
        if (listed >= 0) {
            Matcher group = GROUP.matcher(out.substring(listed));
            while (group.find()) {
                long value = Long.parseLong(group.group(1));
                if (value != gid && !groups.contains(value)) {
                    groups.add(value);
                }
            }
        }
        return new HostUser(name, Long.parseLong(ids.group(1)), gid, List.copyOf(groups));
    }

    private static String id(String name) throws IOException {
        Process process = new ProcessBuilder("id", "--", name).redirectErrorStream(true).start();
        String out;
        try (InputStream in = process.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("id " + name + " did not answer within 30 s");
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
