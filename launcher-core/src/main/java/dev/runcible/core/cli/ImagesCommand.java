package dev.runcible.core.cli;

import dev.runcible.api.TagRecord;
import dev.runcible.core.Runcible;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "images", description = "List the images of the configured store.")
final class ImagesCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Override
    public Integer call() throws Exception {
        try (Runcible runcible = main.open()) {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("NAME", "MANIFEST"));
            for (TagRecord record : runcible.tagToManifest().list()) {
                for (String name : record.names()) {
                    rows.add(List.of(name, record.manifest().shortHex()));
                }
            }
            Table.print(rows, main.out());
            return 0;
        }
    }
}
