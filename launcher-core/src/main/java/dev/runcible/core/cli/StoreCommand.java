package dev.runcible.core.cli;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.lazy.LazyLayers;
import dev.runcible.core.lazy.PrefetchLists;
import java.nio.file.Path;
import dev.runcible.store.ChunkList;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** Work on a store's layers for lazy starts: their chunk lists, and the prefetch lists this node recorded. */
@Command(name = "store", description = "Prepare a store's layers for lazy starts.",
        subcommands = {StoreCommand.Index.class, StoreCommand.Prefetch.class})
final class StoreCommand {
    @ParentCommand
    Main main;

    @Command(name = "index", description = "Write a chunk list beside every layer that has none (other files stay "
            + "as they are).")
    static final class Index implements Callable<Integer> {
        @ParentCommand
        StoreCommand store;

        @Option(names = "--store", paramLabel = "URI", description = "Store (default: the configured local store).")
        String location;

        @Option(names = "--chunk-size", paramLabel = "SIZE", description = "Chunk size, a power of two from 64k to "
                + "64m (default: 256k).")
        String chunkSize = "256k";

        @Override
        public Integer call() throws Exception {
            Main main = store.main;
            long size = Sizes.parse(chunkSize);
            if (!ChunkList.isValidSize(size)) {
                throw new dev.runcible.core.InvalidRequestException("Invalid --chunk-size '" + chunkSize
                        + "': give a power of two from 64k to 64m, such as 1m");
            }
            try (Runcible runcible = main.open();
                    ImageStore target = runcible.openStore(StoreOption.resolve(runcible, location, "--store"))) {
                ImageStore.Indexed indexed = target.index((int) size);
                indexed.problems().forEach(problem -> main.err().println("runcible: " + problem));
                main.out().println("Indexed " + indexed.indexed() + " layer(s); " + indexed.present()
                        + " had a chunk list; " + indexed.problems().size() + " could not be indexed");
                return indexed.problems().isEmpty() ? 0 : 1;
            }
        }
    }

    @Command(name = "prefetch", description = "Publish the chunks this node's first lazy starts read, for the "
            + "store's layers, as their prefetch lists.")
    static final class Prefetch implements Callable<Integer> {
        @ParentCommand
        StoreCommand store;

        @Option(names = "--store", paramLabel = "URI", description = "Store (default: the configured local store).")
        String location;

        @Override
        public Integer call() throws Exception {
            Main main = store.main;
            int published = 0;
            try (Runcible runcible = main.open();
                    ImageStore target = runcible.openStore(StoreOption.resolve(runcible, location, "--store"))) {
                Path lazy = new LazyLayers(runcible.config().runDir()).directory();
                for (Digest layer : PrefetchLists.recorded(lazy)) {
                    Optional<byte[]> reads = PrefetchLists.recordedReads(lazy, layer);
                    if (reads.isPresent() && target.putPrefetch(layer, reads.get())) {
                        published++;
                    }
                }
            }
            main.out().println("Published " + published + " prefetch list(s)");
            return 0;
        }
    }
}
