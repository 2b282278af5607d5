package dev.runcible.core.cli;

import dev.runcible.api.ImageStore;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Sizes;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "gc", description = "Collect garbage on this node: containers left half-made by a killed launcher, "
        + "unused layer mounts beyond runcible.layer-mounts.keep, cache files beyond squashfs.cache.max-bytes. "
        + "With --store: store files that no name references.")
final class GcCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhd])");

    @ParentCommand
    Main main;

    @Option(names = "--store", arity = "0..1", fallbackValue = "", paramLabel = "URI",
            description = "Collect this store (default: the configured local store).")
    String store;

    @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "1h",
            description = "Keep unreferenced files younger than this (e.g. 30m, 1h, 2d; default 1h): an import "
                    + "writes its blobs before it tags them.")
    String grace;

    @Override
    public Integer call() throws Exception {
        if (store == null) {
            Main.requireRoot("gc");
            try (Runcible runcible = main.open()) {
                Runcible.NodeCollected collected = runcible.collect();
                main.out().println("Removed " + collected.halfMadeContainers() + " half-made container(s), "
                        + collected.layerMounts() + " layer mount(s), " + Sizes.format(collected.cacheBytes())
                        + " of cache; released " + collected.exitedContainers() + " exited container(s)");
                return 0;
            }
        }
        Duration keep = parse(grace);
        try (Runcible runcible = main.open();
                ImageStore target = runcible.openStore(StoreOption.resolve(runcible, store, "--store"))) {
            ImageStore.Collected collected = target.collect(keep);
            main.out().println("Removed " + collected.files() + " file(s), " + Sizes.format(collected.bytes())
                    + ", from " + target.location());
            return 0;
        }
    }

    static Duration parse(String text) throws InvalidRequestException {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw new InvalidRequestException("Invalid --grace '" + text + "': use a number and s, m, h or d");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
