// The kind of pass an op's step runs in, which the planner groups steps by.
#pragma once

namespace tessera::ops {

/// Streaming: each tile alone, given its halo. Reduction: partial results per tile merged into
/// numbers or small tables that later steps read. TileGraph: Barnes' phases (each tile alone, a
/// global solve of the tiles' edge graphs on one rank, each tile finished with its numbers).
enum class PassKind { Reduction, Streaming, TileGraph };

}  // namespace tessera::ops
