"""One module per form or family of forms of statistic; each a mixin of StatisticFinder."""
