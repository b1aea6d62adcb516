// Copyright: kafkaops.platform contributors
// Apache-2.0 (see LICENSE)
//
// Runs Kafka's own replica placement offline, the way `kafka-reassign-partitions --generate`
// does in Kafka 4.x: one StripedReplicaPlacer (with one Random shared by all topics), each
// topic placed afresh over the target brokers with its partition count and replication factor.
//
// Input on stdin, one item per line:
//   seed <long>
//   broker <id> <rack or ->
//   topic <name> <partitions> <replication factor>
// Output on stdout, one line per partition:  <topic> <partition> <id,id,...>

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.apache.kafka.common.DirectoryId;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.placement.ClusterDescriber;
import org.apache.kafka.metadata.placement.PartitionAssignment;
import org.apache.kafka.metadata.placement.PlacementSpec;
import org.apache.kafka.metadata.placement.StripedReplicaPlacer;
import org.apache.kafka.metadata.placement.TopicAssignment;
import org.apache.kafka.metadata.placement.UsableBroker;

public final class KafkaPlacement {

    private KafkaPlacement() {
    }

    public static void main(String[] args) throws IOException {
        long seed = 0;
        List<UsableBroker> brokers = new ArrayList<>();
        List<String[]> topics = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] f = line.trim().split("\\s+");
            switch (f[0]) {
                case "seed":
                    seed = Long.parseLong(f[1]);
                    break;
                case "broker":
                    Optional<String> rack = "-".equals(f[2]) ? Optional.empty() : Optional.of(f[2]);
                    brokers.add(new UsableBroker(Integer.parseInt(f[1]), rack, false));
                    break;
                case "topic":
                    topics.add(f);
                    break;
                default:
                    break;
            }
        }
        ClusterDescriber cluster = new ClusterDescriber() {
            @Override
            public Iterator<UsableBroker> usableBrokers() {
                return brokers.iterator();
            }

            @Override
            public Uuid defaultDir(int brokerId) {
                return DirectoryId.MIGRATING;
            }
        };
        StripedReplicaPlacer placer = new StripedReplicaPlacer(new Random(seed));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        StringBuilder sb = new StringBuilder();
        for (String[] t : topics) {
            int partitions = Integer.parseInt(t[2]);
            short rf = Short.parseShort(t[3]);
            TopicAssignment placed = placer.place(new PlacementSpec(0, partitions, rf), cluster);
            List<PartitionAssignment> all = placed.assignments();
            for (int p = 0; p < all.size(); p++) {
                sb.setLength(0);
                sb.append(t[1]).append(' ').append(p).append(' ');
                List<Integer> replicas = all.get(p).replicas();
                for (int i = 0; i < replicas.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    sb.append(replicas.get(i));
                }
                sb.append('\n');
                out.write(sb.toString());
            }
        }
        out.flush();
    }
}
