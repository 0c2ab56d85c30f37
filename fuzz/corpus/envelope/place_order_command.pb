o-0001-0000000001(€Ð•ÿ¼12o-0001-0000000001:k-1Bk-1R„
o-0001-0000000001Ro
c-1m-1
SKU-1ÜEUR
SKU-2úEUR"EUR*4
Ada Lovelace12 Example Street"Berlin*101152DE