// 64 16-bit path lengths a cell, relaxed from a queue: the batched searches between the
// perimeter cells of a piece in flowdir's flats and in fill_epsilon's fronts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tessera::ops {

/// The lengths of one cell from the up to 64 sources of a batch, a lane each: eight words of
/// eight 16-bit lanes (GCC's vector extension: a word is one SSE2 register).
struct LaneLengths {
  using Word = int16_t __attribute__((vector_size(16)));
  static constexpr size_t kLanes = 64;
  static constexpr size_t kPerWord = 8;
  static constexpr size_t kWords = kLanes / kPerWord;
  /// The largest cap: the lengths and one step more fit 16 signed bits.
  static constexpr int kMaxCap = 32766;

  Word word[kWords];

  int16_t& lane(size_t b) { return word[b / kPerWord][b % kPerWord]; }
  int16_t lane(size_t b) const { return word[b / kPerWord][b % kPerWord]; }

  static bool any(Word w) {
    using Halves = uint64_t __attribute__((vector_size(16)));
    const auto halves = reinterpret_cast<Halves>(w);
    return (halves[0] | halves[1]) != 0;
  }

  /// this = min(this, b) lane by lane; whether any lane lowered.
  bool relax(const LaneLengths& b) {
    Word lowered = {};
    for (size_t w = 0; w < kWords; ++w) {
      const Word least = b.word[w] < word[w] ? b.word[w] : word[w];
      lowered |= word[w] - least;
      word[w] = least;
    }
    return any(lowered);
  }

  /// As relax(), taking only the lanes of b from `low` to `high`.
  bool relax_within(const LaneLengths& b, int16_t low, int16_t high) {
    const Word from = Word{} + low;
    const Word to = Word{} + high;
    Word lowered = {};
    for (size_t w = 0; w < kWords; ++w) {
      const Word fits = (b.word[w] >= from) & (b.word[w] <= to) ? b.word[w] : word[w];
      const Word least = fits < word[w] ? fits : word[w];
      lowered |= word[w] - least;
      word[w] = least;
    }
    return any(lowered);
  }
};

/// Relaxes `lanes` from the sources (source b at length 0 in lane b at padded cell
/// source_cells[b]) in the order of a queue until no length lowers: a cell is queued again
/// whenever one of its lengths lowers, so each ends at its least (a label-correcting search).
/// Lengths stop at `cap`. `step_onto(j, step)` lowers the lanes of neighbour j by `step` (a
/// cell's lengths plus one) where j takes them, and says whether any lowered. `queued` holds a 0
/// per padded cell (left so); `queue` is the ring, room for the `size` cells of the piece.
template <class StepOnto>
void relax_from_queue(std::vector<LaneLengths>& lanes, std::vector<uint8_t>& queued,
                      std::vector<uint32_t>& queue, size_t size,
                      std::span<const size_t> source_cells, std::span<const ptrdiff_t> offsets,
                      int16_t cap, StepOnto&& step_onto) {
  using Word = LaneLengths::Word;
  const Word top = Word{} + cap;
  // A ring of queued cells: each is in it at most once, so it never holds more than the piece.
  queue.resize(size);
  size_t head = 0;
  size_t tail = 0;
  size_t waiting = 0;
  const auto push = [&](size_t c) {
    if (queued[c]) return;
    queued[c] = 1;
    ++waiting;
    queue[tail] = static_cast<uint32_t>(c);
    if (++tail == queue.size()) tail = 0;
  };
  for (size_t b = 0; b < source_cells.size(); ++b) {
    lanes[source_cells[b]].lane(b) = 0;
    push(source_cells[b]);
  }
  while (waiting > 0) {
    const uint32_t c = queue[head];
    if (++head == queue.size()) head = 0;
    --waiting;
    queued[c] = 0;
    LaneLengths step;
    for (size_t w = 0; w < LaneLengths::kWords; ++w) {
      const Word next = lanes[c].word[w] + 1;
      step.word[w] = next < top ? next : top;
    }
    for (ptrdiff_t o : offsets) {
      const auto j = static_cast<size_t>(static_cast<ptrdiff_t>(c) + o);
      if (step_onto(j, step)) push(j);
    }
  }
}

}  // namespace tessera::ops
