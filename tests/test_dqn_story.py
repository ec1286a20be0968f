"""`python -m benchmarks.dqn_story`: every step of the story trains for the frame budget and lands in the figure."""

import pytest

from benchmarks.dqn_story import STEPS, run_story, story_figure, summary_table


@pytest.mark.slow
def test_each_step_trains_for_the_frame_budget_and_is_drawn():
    results = run_story(seeds=[0], frames=400, eval_every=200, val_episodes=2, learning_starts=50)
    assert list(results) == [label for label, _ in STEPS]
    for label, options in STEPS:
        [run] = results[label]
        frames = [frame for frame, _ in run["curve"]]
        # evaluated about every 200 frames, stopped at the first evaluation at or past the budget
        assert frames == sorted(frames) and 400 <= frames[-1] < 400 + 200 + 50 * 2, (label, frames)
        if options.get("frame_skip") == 2:
            assert all(frame % 2 == 0 for frame in frames)  # two frames per decision
        assert run["max_q"] and all(0 <= value <= 200 for _, value in run["curve"])
        assert all(0 < frame <= frames[-1] for frame, _ in run["max_q"])
    figure = story_figure(results, frames=400)
    returns, max_q = figure.axes
    assert [text.get_text() for text in returns.get_legend().get_texts()][:4] == list(results)
    assert len(max_q.get_lines()) == len(STEPS)
    assert summary_table(results).count("\n") == len(STEPS) + 1
