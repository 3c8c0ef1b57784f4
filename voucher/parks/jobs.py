"""Parks run no background job: membership changes and the figures are read at request time (the
workbook of a park of a few hundred enterprises is built in the request, like the list exports)."""
